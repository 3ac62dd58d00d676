//! Machine-learning terminal nodes: k-means, PCA and least squares.
