"""Sample-quality metrics: the paper's Parzen-window log-likelihood and nearest neighbours."""
