"""Training and fine-tuning: datasets, losses, the loop, versioned models. No Qt.

Modules, from the data to the model card:

- layouts: find (picture, mask) pairs in folder, CamVid, Cityscapes, KITTI road,
  BDD100K and workspace layouts; readers: decode one pair.
- augment: albumentations pipelines chosen by config; datasets: the torch
  dataset, epoch-tagged samplers, padding collate.
- class_weights, losses, schedule: imbalance weights, the losses (CE, Dice,
  Jaccard, Focal, Tversky, Lovasz, BCE, symmetric difference), the staged loss,
  learning-rate schedules and plateau detection.
- config: the run's settings; build: table, data, loaders and network from them.
- loop: the training job (a generator of Progress); budget: its optional wall-clock
  limit and the learning-rate schedule that fits it; checkpoint: resumable state;
  versions: the new model card; ddp: torchrun / DistributedDataParallel.
- run: ``python -m seggui.training.run CONFIG`` for the GUI (JSON lines on stdout).
"""
