"""Our news-tracker applications and the references of the images that run them."""
