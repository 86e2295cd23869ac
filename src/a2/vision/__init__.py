"""Bonus: image classification with VGG-13, ResNet-18, ViT and EfficientNet-B0 on the CNN dataset."""
