"""Training and fine-tuning: datasets, losses, the loop, versioned models. No Qt."""
