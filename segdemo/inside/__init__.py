"""Inside the network: what each architecture looks at when it labels a pixel (no Gradio here).

``receptive``  which input pixels can reach an output pixel, read from the Keras graph;
``probe``      one checkpoint's float32 Keras model opened up: logits, feature maps, gradients;
``influence``  how far a pixel's decision reaches (share outside a local window, 90% radius);
``occlusion``  hide part of the photo and count the labels that change elsewhere;
``stages``     which intermediate layers tell each architecture's story;
``drawing``    the pictures: heatmaps over the photo, outlines, pooled grids.
"""
