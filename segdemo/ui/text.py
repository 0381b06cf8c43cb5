"""Interface text in English and Japanese, shown in the browser's language (English otherwise).

Labels and page text are translated by the page itself (``t``).  Text the server writes at
request time (legends, tables, messages, figures) follows the request's language (``say``).
"""
import gradio as gr

EN = {
    "title": "segdemo: semantic segmentation, explained",
    "intro": "Upload an outdoor photo and every pixel gets a class: sky, tree, road, grass, water, building, mountain or foreground object. Models trained on the Stanford Background dataset (Gould et al., ICCV 2009).",
    "join.title": "Join from phones (for the teacher: show this on the projector)",
    "join.no_address": "No network address found: connect this computer to the room's Wi-Fi and reload the page.",
    "join.https_warning": "<b>Students scan the code or type the address.</b> The first time, the phone warns that the connection is not private: this computer made its own certificate, which no authority has signed. Tap <b>Advanced</b> (Chrome) or <b>Show Details</b> (Safari), then <b>Proceed</b> / <b>visit this website</b>. The page then works, camera included. Nothing leaves the room's network.",
    "join.http_no_camera": "<b>Students scan the code or type the address.</b> Photos can be uploaded, but phones will not open their cameras on this plain-HTTP address. For the Live camera and the webcam button, restart the app with <code>python app.py --https</code> and use the https:// address this panel then shows.",
    "camera.insecure": "**The camera is blocked on this page.** Browsers allow a camera only on a secure (https://) page or on the computer that runs the app; this one was opened over plain http:// from another device. Ask the teacher to restart the app with `python app.py --https` and open the https:// address from the Join panel (accept the certificate warning once). Uploading a photo works meanwhile.",
    # Gradio's own texts that its Japanese translation lacks (same keys as Gradio's)
    "common.runs": "Runs", "common.runs_description": "View runs saved in this browser",
    "image.no_webcam_support": "This browser will not open the camera here: the page is not secure (http://). Use the https:// address from the Join panel, or upload a photo.",
    "tab.predict": "Predict",
    "tab.compare": "Compare",
    "tab.curves": "Training curves",
    "tab.learn": "Learn: metrics and losses",
    "tab.architectures": "Architectures",
    "photo": "Photo",
    "model": "Model",
    "label_set": "Label set",
    "opacity": "Mask opacity",
    "segment": "Segment",
    "overlay": "Photo with mask",
    "confidence": "Confidence (bright = sure)",
    "legend": "Classes and their share of the image",
    "download": "Mask as PNG (one grey level per class)",
    "examples": "Validation images with ground truth",
    "models_to_compare": "Models to compare",
    "compare": "Compare",
    "disagreement": "Where the models disagree (bright = more distinct answers)",
    "results": "Results",
    "curves_models": "Models",
    "final_metrics": "Final scores on the validation photos (saved by the evaluation: metrics.json)",
    "playground": "Playground: move the predicted square against the true one",
    "shift_x": "Shift right (pixels)",
    "shift_y": "Shift down (pixels)",
    "grow": "Grow / shrink (pixels)",
    "softness": "Softness of the predicted probabilities",
    "gamma": "Focal loss gamma",
    "imbalance": "Class imbalance: size of the object (pixels per side)",
    "metric_table": "Metrics and losses, computed live by segdemo",
    "learn.playground_title": "### Playground",
    "no_models": "**No trained model is available yet**, so this tab cannot segment photos. Train one with `python -m segdemo.train` (see the README); the Learn tab works meanwhile.",
    "details": "Details",
    "models_available": "**Models available:** ",
    "models_missing": "**No trained model is available** in the checkpoints folder: the Predict and Compare tabs need a checkpoint (README, *Training and evaluation*). The Learn and Architectures tabs work without one.",
    "model_unloadable": "Not loaded, with the reason: ",
    "model_load_notes": "Loaded with a note: ",
    "runnable_here": "**Runnable here:** ",
    "architectures.evidence": "### One encoder, different decoders: what the trained models measure\nThe models below share the MobileNetV2 encoder from the same ImageNet weights, the training photos, the loss and the input size; they differ in the decoder (and in how many epochs each trained: see Training curves). So the differences are mostly the decoders' own. Scores on the validation photos, saved when each model was evaluated. The boundary error is how far, in pixels, a predicted outline strays from the true one (95% of the outline is closer; experts call it HD95, the 95th-percentile Hausdorff distance): lower means tighter outlines.",
    "architectures.evidence_table": "The decoders compared on the validation photos",
    "architectures.evidence_columns": "network|parameters|label map before the last upsampling|pixel accuracy|mIoU|boundary error, px (HD95)",
    "nothing_runnable": "**Runnable here:** no trained model yet.",
    "curves.per_class_plot": "Per-class IoU",
    "curves.none": "No checkpoint has a `history.json` yet: curves appear once a model is trained.",
    "curves.unevaluated": "No checkpoint has a `metrics.json` yet: run `python -m segdemo.evaluate checkpoints/NAME`.",
    # Written by the server in the browser's language (see ``say``), not translated by the page.
    "class.sky": "sky", "class.tree": "tree", "class.road": "road", "class.grass": "grass", "class.water": "water",
    "class.building": "building", "class.mountain": "mountain", "class.foreground object": "foreground object",
    "class.horizontal": "horizontal", "class.vertical": "vertical",
    "error.choose_model": "Choose a model first.",
    "error.busy": "Busy: many photos are being segmented right now. Try again in a moment.",
    "predict.segment_first": "Segment a photo first; its mask file is made from the last answer.",
    "predict.make_mask": "Make the mask file (PNG)",
    "error.choose_models": "Choose at least one model to compare.",
    "error.model_unavailable": "Model {name!r} is not available (available: {known}).",
    "compare.columns": "model|time ms|pixel accuracy|mIoU|classes|input (pixels)|parameters|runs as|architecture",
    "compare.all_agree": "all models agree",
    "compare.answers": "{count} different answers",
    "disagreement_key": "Disagreement map",
    "engine.LiteRT int8 weights": "compact network, 8-bit weights",
    "engine.LiteRT float32": "compact network, full precision",
    "engine.Keras float32": "TensorFlow, full precision",
    "engine.Keras mixed_bfloat16": "TensorFlow, half precision",
    "compare.disagreement": "Disagreement among the {count} models of {label_set}: {share:.1f}% of pixels get more than one answer.",
    "compare.no_scores": "Scores appear when the photo is one of the bundled validation examples.",
    "compare.notes": "Note: {notes}.",
    "playground.columns": "metric / loss|value",
    "metric.pixel_accuracy": "pixel accuracy",
    "metric.mean_accuracy": "mean class accuracy",
    "metric.iou": "IoU (object)",
    "metric.miou": "mIoU",
    "metric.fwiou": "frequency-weighted IoU",
    "metric.f1": "F1 / Dice (object)",
    "metric.precision": "precision (object)",
    "metric.recall": "recall (object)",
    "metric.average_precision": "average precision (object)",
    "metric.hausdorff95": "Hausdorff 95% (object, px)",
    "loss.cross_entropy": "loss: cross-entropy",
    "loss.focal": "loss: focal (gamma={gamma:g})",
    "loss.dice": "loss: Dice",
    "loss.tversky": "loss: Tversky (alpha=0.3, beta=0.7)",
    "loss.boundary": "loss: boundary F1",
    "curves.loss": "Loss", "curves.pixel_accuracy": "Pixel accuracy", "curves.miou": "mIoU", "curves.epoch": "epoch",
    "curves.training": "training", "curves.validation": "validation",
    "curves.line_key": "solid: training photos, dashed: validation photos",
    "curves.per_class_title": "Validation IoU per class",
    "curves.summary_columns": "model|scored on|pixel accuracy|mean accuracy|mIoU|FWIoU|mean F1|mAP|boundary error px (HD95)|images",
    "curves.scored_fixed": "{classes} classes, the app's 143 validation photos",
    "curves.scored_own": "{classes} classes, its own validation photos: not comparable",
    "curves.not_comparable": "**Not comparable:** the tutorial model from the seed notebook ({names}) sorted pixels into fewer classes (an easier task) and was scored on its own validation photos, so its scores cannot be set against the 8-class models'.",
    "tab.live": "Live camera",
    "live.intro": "Point the webcam at a scene (a window, a poster of a street, the schoolyard) and press record: each frame is segmented by the fastest model and the overlay follows the camera. Frames that arrive while one is being segmented are dropped rather than queued, so the picture never lags behind. The measured frame rate is shown under the overlay; a stream stops after five minutes.",
    "live.camera": "Webcam",
    "live.overlay": "Segmented live",
    "live.rate": "**{fps:.1f} frames/s shown** with {model}: {milliseconds:.0f} ms per frame; {dropped} frames dropped while busy.",
    "live.unavailable": "This frame could not be segmented (model unavailable or unreadable frame).",
    "tab.dataset": "Dataset",
    "tab.errors": "Error analysis",
    "label_set.regions": "8 region classes",
    "label_set.surfaces": "3 surface classes",
    "predict.hover": "Classes found (hover over a name to highlight it)",
    "predict.truth": "Ground truth",
    "predict.errors": "Error map",
    "predict.scores": "**This photo is from the dataset, so its truth is known:** pixel accuracy {pixel_accuracy:.3f}, mIoU {miou:.3f}. In the error map, red pixels are wrong and grey ones have no label.",
    "predict.no_truth": "The truth and an error map appear when the photo is a bundled example or a dataset photo (Dataset tab, *Segment in Predict*).",
    "compare.label_sets": "**Not comparable:** the tutorial model from the seed notebook (seed-recipe) sorts pixels into only 3 surface classes (sky, horizontal, vertical), an easier task, from a smaller 224x224 input (fewer pixels, so less time) and was scored on its own split of the photos: its scores and time do not compare with the 8-class models'. Compare it by eye; the disagreement map uses the models of one label set.",
    "dataset.unavailable": "The Stanford Background dataset is not available on this server.",
    "dataset.unknown_id": "There is no photo {image_id!r} in the dataset: ids are 7-digit numbers such as 0000047 ({count} photos).",
    "dataset.unavailable_page": "**The Stanford Background dataset is not on this server**, so photos cannot be browsed here. Get it with `python -m segdemo.data fetch` and restart the app.",
    "dataset.intro": "The 715 photos of **Stanford Background** (Gould et al., ICCV 2009), each labelled three ways: **regions** (8 semantic classes, what the models learn), **surfaces** (sky, horizontal, vertical: the geometry) and **layers** (one id per region; colours have no meaning). Black = unlabelled. Choose a photo by id, at random or by the classes it contains.",
    "dataset.filter": "Only photos containing all of",
    "dataset.split": "Split",
    "dataset.all": "all",
    "dataset.training": "training",
    "dataset.validation": "validation",
    "dataset.photo_id": "Photo id",
    "dataset.found": "{count} of {total} photos match.",
    "dataset.none_found": "No photo contains all of these classes together: untick one.",
    "dataset.random": "Random photo",
    "dataset.send": "Segment in Predict",
    "dataset.photo": "Photo",
    "dataset.regions": "Regions (8 classes)",
    "dataset.surfaces": "Surfaces (3 classes)",
    "dataset.layers": "Layers (region ids)",
    "dataset.statistics": "Dataset statistics",
    "dataset.caption": "**Photo {image_id}**: {width}x{height} pixels, **{split} split**; {layers} layers; {unknown:.1f}% unlabelled; classes: {classes}.",
    "dataset.shares_title": "Share of labelled pixels per class",
    "dataset.percent_pixels": "% of labelled pixels",
    "dataset.class": "class",
    "dataset.size_hover": "{width}x{height}: {count} photos",
    "dataset.sizes_title": "Image sizes ({distinct} distinct)",
    "dataset.width": "width (pixels)",
    "dataset.height": "height (pixels)",
    "dataset.unknown_title": "Unlabelled pixels per photo",
    "dataset.percent_unknown": "% of the photo unlabelled",
    "dataset.photos": "photos",
    "errors.intro": "Where each model goes wrong on the validation photos. The confusion matrix reads by row: of all pixels of a true class, what share went to each predicted class (the diagonal is right). The photos are ranked by their own mIoU, worst first: choose one (or click a row) to see photo, truth, prediction and errors.",
    "errors.none": "No evaluated model yet: run `python -m segdemo.evaluate checkpoints/NAME` to fill this tab.",
    "errors.hover": "true %{{y}}, predicted %{{x}}<br>%{{z:.1f}}% of the row, %{{customdata:,}} pixels",
    "errors.share_of_row": "% of the row",
    "errors.confusion_title": "Confusion matrix on the validation photos<br>(% of each true class)",
    "errors.predicted": "predicted class",
    "errors.true": "true class",
    "errors.iou_title": "IoU per class (mIoU {miou:.3f})",
    "errors.unknown_model": "Model {name!r} has no evaluation to show (evaluated: {known}).",
    "errors.columns": "rank|photo|mIoU|pixel accuracy",
    "errors.ranking": "Validation photos, worst first",
    "errors.choose_photo": "Photo (worst first)",
    "errors.caption": "**Photo {image_id}** ({split}) with {model}, run now as {engine}: pixel accuracy {accuracy:.3f}, mIoU {miou:.3f}; {wrong:.1f}% of labelled pixels wrong. The ranking holds the scores saved when the model was evaluated at full precision, so they may differ slightly.",
    "errors.app_split": "{split} split",
    "errors.behind_a_cell": "Which photos are behind a cell of the matrix? (e.g. mountain taken for tree)",
    "errors.true_class": "True class",
    "errors.predicted_class": "Predicted as",
    "errors.find": "Find the photos",
    "errors.confused_photos": "Photos where it happens, most pixels first (click one to see it)",
    "errors.confused_columns": "rank|photo|pixels|% of the true class in the photo",
    "errors.unknown_classes": "Choose two of this model's classes: {known}.",
    "errors.own_split": "one of this model's own validation photos; in the app's split it is a {split} photo",
    "errors.own_split_title": "{classes} classes, its own validation photos: not comparable with the 8-class models",
    "errors.photo": "Photo",
    "errors.truth": "Truth",
    "errors.prediction": "Prediction",
    "errors.errors": "Errors (red)",
    "learn.explanation": r"""
### Metrics: how good is a label map?
Count, over all labelled pixels of the validation set, for each class $c$: true positives $TP_c$ (class $c$, predicted $c$), false positives $FP_c$ (predicted $c$, truly something else) and false negatives $FN_c$ (truly $c$, predicted something else). Pixels labelled *unknown* in the dataset are left out of every count.

| metric | formula | reads as | watch out |
|---|---|---|---|
| **Pixel (global) accuracy** | $\frac{\sum_c TP_c}{N}$ | share of pixels labelled right | dominated by big classes: 90% "sky and road" can hide a missed car |
| **Mean (class) accuracy** | $\frac{1}{C}\sum_c \frac{TP_c}{TP_c+FN_c}$ | average recall per class | ignores false alarms |
| **IoU** (Jaccard) | $\frac{TP_c}{TP_c+FP_c+FN_c}$ | overlap of predicted and true region | punishes both misses and false alarms |
| **mIoU** | $\frac{1}{C}\sum_c IoU_c$ | the standard benchmark score | every class weighs the same, however rare |
| **Frequency-weighted IoU** | $\sum_c \frac{N_c}{N} IoU_c$ | IoU weighted by how common a class is | between pixel accuracy and mIoU |
| **F1 / Dice** | $\frac{2TP_c}{2TP_c+FP_c+FN_c}$ | harmonic mean of precision and recall | always $\ge$ IoU: $F1 = \frac{2\,IoU}{1+IoU}$ |
| **Average precision** | $\sum_n (R_n-R_{n-1})P_n$ over confidence thresholds | how well confidence ranks pixels of class $c$ | uses probabilities, not just the arg-max |
| **Hausdorff distance (95%)** | 95th percentile of outline-to-outline distances, both ways | how far the outlines stray, in pixels | undefined when a class is missing from truth or prediction |

Scores are computed from **one confusion matrix summed over the whole dataset**, not averaged per image or per batch: otherwise an image that is all sky would weigh as much as a busy street.

### Losses: what the network is trained to lower
With $t$ the one-hot truth and $p$ the predicted probability of a pixel:

- **Cross-entropy** $-\sum_c t_c \log p_c$: the default; every pixel counts the same, so large classes dominate.
- **Focal** $-(1-p_t)^\gamma \log p_t$: with $\gamma>0$ the pixels already right (large $p_t$) fade out and hard pixels dominate. $\gamma=0$ is cross-entropy.
- **Dice** $1-\frac{1}{C}\sum_c \frac{2\sum t_c p_c}{\sum t_c+\sum p_c}$: a soft F1 per class; each class weighs the same, which helps rare classes.
- **Tversky** $1-\frac{TP}{TP+\alpha FP+\beta FN}$: Dice with separate prices for false alarms ($\alpha$) and misses ($\beta$); $\beta>\alpha$ favours recall of small objects.
- **Boundary (Hausdorff-style)** $1-BF1$: compares only the outlines (found by max-pooling), each matched within $\theta$ pixels; it punishes ragged or shifted edges that area losses barely notice. Usually added to an area loss.

The shipped models train on **class-weighted cross-entropy + Dice**: stable gradients from the first, class balance from the second. The weights ($w_c \propto 1/\sqrt{\text{share of class } c}$, about 2.5 for mountain and 0.55 for road) matter: in an earlier 12-epoch run without them the rare *mountain* class (1% of the training pixels) scored an IoU of 0.002; the shipped U-Net, trained with them, about 0.3.
""",
    "learn.playground_help": """
The dark outline is the **truth** (an object on background); the prediction is a square you move, resize and blur.
Green = true positive, red = false positive, blue = false negative. Shrink the object to see class imbalance:
pixel accuracy stays high while the object's IoU collapses.

**Why a loss is not 0 when every metric reads 1:** metrics count the *labels* (the most probable class of each pixel);
losses use the *probabilities*. Here the prediction is never more sure than 98%, and the softness slider blurs its edge,
so the object's border pixels get, say, 60% instead of 100%: the labels are still right, but Dice and Tversky add up
those missing percents over the whole object and, averaging over the classes, count the small object as much as the
large background. A small, soft-edged object therefore keeps a Dice loss around 0.3. Set the softness to 0: the losses
drop close to 0. Training lowers the loss by making the network surer, which is why it keeps improving after the
labels are already right.
""",
    "architectures.overview": """
All of these are **encoder-decoder** networks: an image classifier (the *encoder* or *backbone*,
here MobileNetV2 or a ResNet) shrinks the photo into coarse, meaningful features; the *decoder*
turns them back into a full-resolution label map. They differ in how the decoder recovers detail.

| network | year | idea | strength | weakness |
|---|---|---|---|---|
| **FCN** (Long et al.) | 2015 | replace a classifier's dense layers with 1x1 convolutions; upsample, adding skip scores from earlier layers | first end-to-end segmenter | coarse, blobby edges |
| **SegNet** (Badrinarayanan et al.) | 2015 | the decoder reuses the encoder's max-pooling *indices* to place features back | light memory | still blurry boundaries |
| **U-Net** (Ronneberger et al.) | 2015 | symmetric decoder; at every scale it *concatenates* the encoder's feature map (skip connections) | sharp outlines, small objects | little global context |
| **PSPNet** (Zhao et al.) | 2017 | *pyramid pooling*: pool the feature map into 1x1, 2x2, 3x3, 6x6 grids and add all to every pixel | scene-level context (sky above, road below) | coarse output (upsampled 8x), so thin edges suffer |
| **FPN** (Lin et al.) | 2017 | a *feature pyramid*: top-down path that adds coarse semantics to finer maps, predicting from all scales | objects of every size | decoder output at 1/4 resolution |
| **DeepLab v3+** (Chen et al.) | 2018 | *atrous* (dilated) convolutions at several rates, plus a small decoder | context and detail | heavier; not in segmentation-models 1.0.1, so not runnable here |

**What to look for in the Compare tab:** U-Net keeps thin structures (poles, tree edges) and small
objects; PSPNet is confident about large regions and their layout but rounds corners; FPN usually
sits between them. The disagreement map shows exactly those boundary pixels.
""",
    "tab.inside": "Inside the network",
    "architectures.to_inside": "Look inside these networks (Inside the network tab)",
    "inside.intro": "### What does each network look at?\nEvery network here is an encoder-decoder (see Architectures). The article this app grows from names the principle behind all of them: **the more of its surroundings a pixel's decision uses, the fewer mistakes, though context also brings in bias** (a grey patch above a road is probably a building, even when it is sky). **FCN** labels each pixel from what its convolutions can see and upsamples a coarse map; **SegNet** and **U-Net** bring fine detail back from the encoder; **PSPNet** pools the whole scene; **DeepLab** widens the view with atrous (dilated) convolutions. Choose a photo (upload, an example, or a dataset photo by id), then: **1** click a pixel to see what decided it, **2** see where each class is likely, **3** look at the feature maps inside, **4** hide a region and watch labels change elsewhere. Each view runs only when you ask, on the shipped models in full float32 precision.",
    "inside.open_dataset_photo": "Open this dataset photo",
    "inside.models": "Models to look inside",
    "inside.target": "Click a pixel (the photo at 384x288, as the models see it)",
    "inside.target_help": "Click anywhere on this picture: view **1** explains that pixel for every chosen model. Its position is also written in the row and column boxes below (0 = top or left, 1 = bottom or right).",
    "inside.pixel_tab": "1. What decided this pixel?",
    "inside.pixel_help": "The colours show how strongly each input pixel pushed the clicked pixel's score for its class: the **gradient** of that score (the logit, before the softmax) with respect to the photo, bright = strong. We use the gradient rather than hiding patches one at a time (occlusion) because one backward pass gives the whole map in under a second, and it is exactly zero wherever the network cannot see. **White box:** the *theoretical receptive field*, every input pixel that can reach the clicked one through the layers, worked out from the network's kernel sizes and strides; for these MobileNetV2 networks it is larger than the photo, so it is the whole picture and what differs is how the influence spreads inside it. **Cyan square:** a local window of 65x65 pixels (a sixth of the width); the number says how much of the influence comes from **outside** it. **Orange circle:** the *effective* receptive field, the radius that holds 90% of the influence. PSPNet's pyramid pooling averages the whole photo, so its influence usually reaches furthest: the context principle made visible.",
    "inside.row": "Row (0 top, 1 bottom)",
    "inside.column": "Column (0 left, 1 right)",
    "inside.explain": "Explain this pixel",
    "inside.influence": "Influence on the clicked pixel",
    "inside.pixel_table": "Probability of each class at the clicked pixel (%)",
    "inside.probabilities_tab": "2. Class probabilities",
    "inside.probabilities_help": "One small map per class, bright where the model gives that class a high probability, and last the **uncertainty** (entropy): dark where the model is sure, bright where it hesitates between classes, often along boundaries or between look-alikes such as mountain and tree. U-Net's maps have sharp edges (its decoder climbs back to full size through skip connections); PSPNet's are smooth blobs (it predicts at 1/8 of the size and upsamples, as FCN did).",
    "inside.show_probabilities": "Show class probabilities",
    "inside.probabilities": "Probability of each class, and the uncertainty",
    "inside.features_tab": "3. Feature maps",
    "inside.features_help": "The encoder (MobileNetV2, an image classifier) halves its maps five times, stride 2 to 32: each step sees a wider area with more channels (features such as 'green texture' or 'straight edge') but less detail. The decoder works back. Each picture shows the photo (top left) and the **3 channels most active** on it (bright = active), drawn at their own resolution, so you can see how coarse each stage is. **U-Net:** at every decoder stage, the upsampled path (coarse but meaningful) beside the encoder's *skip connection* (fine but simple) it is joined with: the idea of SegNet and U-Net. **PSPNet:** the four pooled grids (1x1, 2x2, 3x3, 6x6) drawn over the photo; each cell is one average over that part of the scene, added back to every pixel. **FPN:** the pyramid levels from coarse to fine, each turned into segmentation features and joined.",
    "inside.show_features": "Show feature maps",
    "inside.features": "Feature maps, encoder then decoder",
    "inside.hide_tab": "4. Try it: hide a region",
    "inside.hide_help": "The region is filled with plain grey (ImageNet's average colour, which the network reads as 'nothing') and each model labels the photo again. **Red** pixels lie **outside** the hidden region and changed their label: context at work. A network that only looks nearby changes pixels next to the region; one that pools the whole scene can change labels anywhere. Choose a preset, or *the box below* and set its edges as fractions of the photo's height and width.",
    "inside.region": "Region to hide",
    "inside.region.box": "the box below",
    "inside.region.sky": "the sky (as the first model labels it)",
    "inside.region.centre": "the centre",
    "inside.region.left": "the left half",
    "inside.region.bottom": "the bottom third",
    "inside.box_top": "Box top",
    "inside.box_left": "Box left",
    "inside.box_bottom": "Box bottom",
    "inside.box_right": "Box right",
    "inside.hide": "Hide and compare",
    "inside.hidden": "Labels that changed outside the hidden region (red)",
    "inside.bad_fraction": "Row, column and box edges are fractions of the photo's height and width, between 0 and 1; got {value!r}.",
    "inside.bad_region": "Unknown region {region!r}; choose one of {known}.",
    "inside.nothing_to_hide.sky": "The first chosen model finds no sky in this photo: choose another region.",
    "inside.nothing_to_hide.box": "The box is empty: make its bottom lower than its top and its right edge right of its left.",
    "inside.field_global": "the whole photo, whatever its size (global pooling)",
    "inside.field_exceeds": "{height}x{width} px, larger than the photo",
    "inside.field_size": "{height}x{width} px",
    "inside.pixel_caption": "{model}: {label} {probability:.0f}%",
    "inside.pixel_line": "**{model}** ({milliseconds:.0f} ms) calls it **{label}** ({probability:.0f}%). Theoretical receptive field: {field}. **{outside:.0f}%** of the influence comes from outside the {window}x{window} window; 90% lies within **{radius:.0f} px** ({width_share:.0f}% of the width).",
    "inside.class": "class",
    "inside.entropy_caption": "uncertainty (entropy)",
    "inside.probabilities_note": "**{model}** ({milliseconds:.0f} ms): mean uncertainty {mean:.2f} (0 = always sure, 1 = every class equally likely); {uncertain:.1f}% of the pixels are more than half way to the maximum.",
    "inside.stage.encoder": "encoder, stride {stride}: {height}x{width}, {channels} channels",
    "inside.stage.upsampled": "stage {step}, upsampled path: {height}x{width}, {channels} channels",
    "inside.stage.skip": "stage {step}, skip from the encoder: {height}x{width}, {channels} channels",
    "inside.stage.joined": "stage {step}, joined: {height}x{width}, {channels} channels",
    "inside.stage.pooled": "pyramid pooling, {step}x{step} grid (channel {shown}, one average per cell)",
    "inside.stage.pyramid": "pyramid level, stride {stride}: {height}x{width}, {channels} channels",
    "inside.stage.decoder": "decoder output, stride {stride}: {height}x{width}, {channels} channels",
    "inside.features_note.unet": "**{model}** ({milliseconds:.0f} ms): five encoder stages down to stride 32, then decoder stages back to full size, each joining the upsampled path with a skip connection.",
    "inside.features_note.pspnet": "**{model}** ({milliseconds:.0f} ms): the encoder stops at stride 8; pyramid pooling adds the whole scene at four grid sizes; the label map is made at 1/8 of the size and upsampled.",
    "inside.features_note.fpn": "**{model}** ({milliseconds:.0f} ms): the encoder goes down to stride 32; a top-down pyramid adds coarse meaning to finer maps, and every level is upsampled and joined before the label map.",
    "inside.features_note.other": "**{model}** ({milliseconds:.0f} ms): encoder stages, then decoder stages.",
    "inside.hide_caption": "{model}: {share:.1f}% changed",
    "inside.hide_line": "**{model}** ({milliseconds:.0f} ms): **{changed} pixels** outside the hidden region changed label ({share:.1f}% of them). Through its receptive fields the region can reach {reach:.0f}% of the rest of the photo, and {beyond} pixels changed beyond that reach.",
    "tab.train": "Train",
    "train.intro": "### Watch a network learn\nChoose a network, a loss and how much to train, then press **Train**: everyone on this page watches the same run as it happens. The curves show the loss, pixel accuracy and mIoU after every step (running mean of the epoch) and on the validation photos after every epoch; the strip shows what the network answers for one validation photo before training and after each epoch, next to the truth. One run at a time on this server; it trains on one of the computer's cores at low priority, so predictions in the other tabs keep working.",
    "train.off_env": "**Training is switched off on this server** (`SEGDEMO_TRAIN_CAP_S=0`). Start the app on your own computer to train in class.",
    "train.off_space": "**Training is switched off on this public server:** one visitor's run would slow every other visitor's predictions. Run the app on your own computer (`python app.py`) to train in class, or set `SEGDEMO_TRAIN_CAP_S` (seconds a run may take) in the Space's settings to turn it on.",
    "train.no_data": "**Training needs the Stanford Background photos, which are not on this server.** Fetch them with `python -m segdemo.data fetch` and restart the app.",
    "train.no_photo": "**Training needs a validation photo to show**, and no example photo is bundled (`python -m segdemo.data examples`).",
    "train.arch": "Network",
    "train.loss": "Loss",
    "train.loss_info": "See the Learn tab; sums such as 0.5*focal+dice may be typed",
    "train.start": "Encoder starts from",
    "train.imagenet": "ImageNet (MobileNetV2)",
    "train.scratch": "scratch (random)",
    "train.photos": "Training photos",
    "train.epochs": "Epochs",
    "train.size": "Input size (pixels)",
    "train.size_info": "Smaller is faster; PSPNet rounds to multiples of 48",
    "train.train": "Train",
    "train.stop": "Stop",
    "train.keep": "Use this model in Predict and Compare",
    "train.snapshots": "**One validation photo:** its truth, then the network's answer before training and after each epoch (mIoU on this photo)",
    "train.command_title": "The same run from a terminal",
    "train.minutes": "{minutes} min {seconds:02d} s", "train.seconds": "{seconds} s",
    "train.idle": "No run yet on this server. Choose the settings and press **Train**; everyone on this page will watch it.",
    "train.settings_line": "**{arch}**, loss {loss}, encoder from {start}, {photos} photos, {epochs} epochs, {size} pixels (started {time})",
    "train.starting": "**Getting ready** ({elapsed}): building the network and reading the photos. The first steps come within a minute.",
    "train.training": "**Training:** epoch {epoch} of {epochs}, step {step} of {steps} ({elapsed} so far; the cap is {cap}).",
    "train.pace": " {rate:.1f} photos per second, **about {left} left**.",
    "train.finished": "**Done** in {elapsed}: {epochs} epochs, best validation mIoU **{miou}**.",
    "train.capped": "**Stopped at the time cap** ({cap}) after {epochs} epochs: best validation mIoU **{miou}**.",
    "train.stopped": "**Stopped** after {elapsed} and {epochs} finished epochs: best validation mIoU **{miou}**.",
    "train.failed": "**Training failed:** {error}",
    "train.kept": "In Predict and Compare as *{name}*.",
    "train.training_steps": "training, each step",
    "train.training_epochs": "training, each epoch",
    "train.validation_epochs": "validation, each epoch",
    "train.photo": "photo",
    "train.truth": "truth",
    "train.before": "before training",
    "train.after_epoch": "after epoch {epoch}",
    "train.photo_miou": ": mIoU {miou:.2f}",
    "train.bad_loss": "Not a loss this app knows: {error}",
    "train.busy": "A run is going on: watch it here; a new one can start when it ends.",
    "train.no_encoder": "The ImageNet encoder weights are not on this server: choose scratch.",
    "train.nothing_to_keep": "No finished run with a saved epoch to use (or it is already in the lists).",
    "train.keep_failed": "The run's model could not be loaded.",
    "train.not_yours": "Only the person who started this run (or the computer serving the page) may do that.",
    "train.run_label": "class run {time} ({arch}, {epochs} epochs)",
    "train.kept_info": "{label} is now in the Predict and Compare lists.",
}

JA = {
    "title": "segdemo: セマンティックセグメンテーションを理解する",
    "intro": "屋外の写真をアップロードすると、すべての画素にクラス(空・木・道路・草地・水・建物・山・前景物体)が割り当てられます。モデルは Stanford Background データセット(Gould ほか, ICCV 2009)で学習しています。",
    "join.title": "スマートフォンから参加する(先生用: プロジェクターに映してください)",
    "join.no_address": "ネットワークアドレスが見つかりません: このコンピューターを教室の Wi-Fi につないでページを再読み込みしてください。",
    "join.https_warning": "<b>生徒はコードを読み取るか、アドレスを入力します。</b> 最初に、スマートフォンが「この接続ではプライバシーが保護されません」と警告します: このコンピューターが自分で作った証明書で、認証局の署名がないためです。<b>詳細設定</b>(Chrome)または<b>詳細を表示</b>(Safari)を押し、<b>アクセスする</b> / <b>このWebサイトを閲覧</b> を選んでください。その後はカメラも含めて使えます。データは教室のネットワークの外に出ません。",
    "join.http_no_camera": "<b>生徒はコードを読み取るか、アドレスを入力します。</b> 写真のアップロードはできますが、この http:// のアドレスではスマートフォンのカメラは開きません。ライブカメラと Web カメラのボタンを使うには、<code>python app.py --https</code> でアプリを起動し直し、このパネルに表示される https:// のアドレスを使ってください。",
    "camera.insecure": "**このページではカメラが使えません。** ブラウザーがカメラを許可するのは、安全な(https://)ページか、アプリを動かしているコンピューター上だけです。このページは別の端末から http:// で開かれています。先生に `python app.py --https` で起動し直してもらい、参加パネルの https:// のアドレスを開いてください(証明書の警告を一度だけ承認します)。その間も写真のアップロードは使えます。",
    "common.runs": "実行履歴", "common.runs_description": "このブラウザーに保存された実行を見る",
    "image.no_webcam_support": "このページは安全(https://)ではないため、ブラウザーがカメラを開きません。参加パネルの https:// のアドレスを使うか、写真をアップロードしてください。",
    "tab.predict": "予測",
    "tab.compare": "比較",
    "tab.curves": "学習曲線",
    "tab.learn": "学ぶ: 評価指標と損失関数",
    "tab.architectures": "アーキテクチャ",
    "photo": "写真",
    "model": "モデル",
    "label_set": "ラベルセット",
    "opacity": "マスクの不透明度",
    "segment": "セグメント",
    "overlay": "マスクを重ねた写真",
    "confidence": "確信度(明るいほど確か)",
    "legend": "クラスと画像に占める割合",
    "download": "マスク PNG(クラスごとに 1 つの灰色値)",
    "examples": "正解付きの検証画像",
    "models_to_compare": "比較するモデル",
    "compare": "比較する",
    "disagreement": "モデル間で意見が分かれる場所(明るいほど答えが多様)",
    "results": "結果",
    "curves_models": "モデル",
    "final_metrics": "検証写真での最終スコア(評価時に保存: metrics.json)",
    "playground": "実験場: 予測した正方形を正解の正方形に対して動かす",
    "shift_x": "右へずらす(画素)",
    "shift_y": "下へずらす(画素)",
    "grow": "拡大 / 縮小(画素)",
    "softness": "予測確率のなめらかさ",
    "gamma": "Focal loss の gamma",
    "imbalance": "クラス不均衡: 物体の大きさ(一辺の画素数)",
    "metric_table": "segdemo がその場で計算する指標と損失",
    "learn.playground_title": "### 実験場",
    "no_models": "**学習済みモデルがまだない**ため、このタブでは写真をセグメントできません。`python -m segdemo.train` で学習してください(README 参照)。その間も「学ぶ」タブは使えます。",
    "details": "詳細",
    "models_available": "**利用できるモデル:** ",
    "models_missing": "checkpoints フォルダに**学習済みモデルがありません**。予測タブと比較タブにはチェックポイントが必要です(README の *Training and evaluation* を参照)。学ぶタブとアーキテクチャタブはモデルなしで使えます。",
    "model_unloadable": "読み込めなかったモデルとその理由: ",
    "model_load_notes": "注意付きで読み込んだモデル: ",
    "runnable_here": "**ここで実行できるモデル:** ",
    "architectures.evidence": "### 同じエンコーダ、異なるデコーダ: 学習済みモデルで測る\n下のモデルは、同じ ImageNet の重みから始めた MobileNetV2 エンコーダ、学習写真、損失関数、入力サイズを共有し、デコーダ(と学習エポック数: 学習曲線タブ参照)が異なります。したがって違いの大部分はデコーダによるものです。スコアは各モデルの評価時に保存した検証写真での値です。境界の誤差は、予測した輪郭が正解の輪郭から何画素ずれているか(輪郭の 95% はそれより近い。専門用語では HD95、95 パーセンタイルのハウスドルフ距離)で、小さいほど輪郭が正確です。",
    "architectures.evidence_table": "検証写真で比べたデコーダ",
    "architectures.evidence_columns": "ネットワーク|パラメータ数|最後のアップサンプリング前のラベルマップ|画素精度|mIoU|境界の誤差 px(HD95)",
    "nothing_runnable": "**ここで実行できるモデル:** 学習済みモデルはまだありません。",
    "curves.per_class_plot": "クラスごとの IoU",
    "curves.none": "`history.json` を持つチェックポイントはまだありません。モデルを学習すると曲線が表示されます。",
    "curves.unevaluated": "`metrics.json` を持つチェックポイントはまだありません。`python -m segdemo.evaluate checkpoints/NAME` を実行してください。",
    "class.sky": "空", "class.tree": "木", "class.road": "道路", "class.grass": "草地", "class.water": "水",
    "class.building": "建物", "class.mountain": "山", "class.foreground object": "前景物体",
    "class.horizontal": "水平面", "class.vertical": "垂直面",
    "error.choose_model": "先にモデルを選んでください。",
    "error.busy": "混み合っています。たくさんの写真を処理中です。少し待ってからもう一度お試しください。",
    "predict.segment_first": "先に写真をセグメントしてください。マスクファイルは最後の結果から作られます。",
    "predict.make_mask": "マスクファイル(PNG)を作る",
    "error.choose_models": "比較するモデルを 1 つ以上選んでください。",
    "error.model_unavailable": "モデル {name!r} は利用できません(利用できるもの: {known})。",
    "compare.columns": "モデル|時間 ms|画素精度|mIoU|クラス数|入力(画素)|パラメータ数|実行方式|アーキテクチャ",
    "compare.all_agree": "全モデルが一致",
    "compare.answers": "{count} 通りの答え",
    "disagreement_key": "不一致マップ",
    "engine.LiteRT int8 weights": "軽量版ネットワーク(8 ビットの重み)",
    "engine.LiteRT float32": "軽量版ネットワーク(完全な精度)",
    "engine.Keras float32": "TensorFlow(完全な精度)",
    "engine.Keras mixed_bfloat16": "TensorFlow(半分の精度)",
    "compare.disagreement": "{label_set}の {count} 個のモデルの不一致: 画素の {share:.1f}% で答えが分かれています。",
    "compare.no_scores": "同梱の検証画像を使うと、正解に対するスコアが表示されます。",
    "compare.notes": "注: {notes}。",
    "playground.columns": "指標 / 損失|値",
    "metric.pixel_accuracy": "画素精度",
    "metric.mean_accuracy": "平均クラス精度",
    "metric.iou": "IoU(物体)",
    "metric.miou": "mIoU",
    "metric.fwiou": "頻度重み付き IoU",
    "metric.f1": "F1 / Dice(物体)",
    "metric.precision": "適合率(物体)",
    "metric.recall": "再現率(物体)",
    "metric.average_precision": "平均適合率(物体)",
    "metric.hausdorff95": "ハウスドルフ距離 95%(物体、画素)",
    "loss.cross_entropy": "損失: 交差エントロピー",
    "loss.focal": "損失: focal(gamma={gamma:g})",
    "loss.dice": "損失: Dice",
    "loss.tversky": "損失: Tversky(alpha=0.3、beta=0.7)",
    "loss.boundary": "損失: 境界 F1",
    "curves.loss": "損失", "curves.pixel_accuracy": "画素精度", "curves.miou": "mIoU", "curves.epoch": "エポック",
    "curves.training": "学習", "curves.validation": "検証",
    "curves.line_key": "実線: 学習用の写真、破線: 検証用の写真",
    "curves.per_class_title": "クラスごとの検証 IoU",
    "curves.summary_columns": "モデル|評価の条件|画素精度|平均精度|mIoU|FWIoU|平均 F1|mAP|境界の誤差 px(HD95)|画像数",
    "curves.scored_fixed": "{classes} クラス、アプリの検証写真 143 枚",
    "curves.scored_own": "{classes} クラス、独自の検証写真: 比べられません",
    "curves.not_comparable": "**比べられません:** シードノートブックのチュートリアルモデル({names})はより少ないクラス(より易しい課題)に分け、独自の検証写真で評価したので、8 クラスのモデルのスコアとは比べられません。",
    "tab.live": "ライブカメラ",
    "live.intro": "Web カメラを景色(窓の外、街の写真のポスター、校庭)に向けて録画を押してください。各フレームを最速のモデルでセグメントし、重ね表示がカメラに追従します。処理中に届いたフレームは待たせずに捨てるので、表示が遅れていくことはありません。計測したフレームレートを下に表示します。ストリームは 5 分で止まります。",
    "live.camera": "Web カメラ",
    "live.overlay": "ライブのセグメンテーション",
    "live.rate": "{model} で **毎秒 {fps:.1f} フレーム表示**: 1 フレーム {milliseconds:.0f} ms、処理中に捨てたフレーム {dropped}。",
    "live.unavailable": "このフレームはセグメントできませんでした(モデルが使えないか、フレームが読めません)。",
    "tab.dataset": "データセット",
    "tab.errors": "誤り分析",
    "label_set.regions": "8 つの領域クラス",
    "label_set.surfaces": "3 つの面クラス",
    "predict.hover": "見つかったクラス(名前にカーソルを合わせると強調表示)",
    "predict.truth": "正解",
    "predict.errors": "誤りマップ",
    "predict.scores": "**この写真はデータセットのものなので正解が分かります:** 画素精度 {pixel_accuracy:.3f}、mIoU {miou:.3f}。誤りマップでは赤が誤った画素、灰色がラベルのない画素です。",
    "predict.no_truth": "写真が同梱の例またはデータセットの写真(データセットタブの「予測でセグメント」)のとき、正解と誤りマップが表示されます。",
    "compare.label_sets": "**比べられません:** シードノートブックのチュートリアルモデル(seed-recipe)は画素を 3 つの面クラス(空・水平面・垂直面)に分けるだけで、より易しい課題です。入力も 224x224 と小さく(画素が少ないので時間も短い)、写真の分け方も独自です。そのためスコアと時間は 8 クラスのモデルとは比べられません。目で見て比べてください。不一致マップは同じラベルセットのモデルだけを使います。",
    "dataset.unavailable": "このサーバーには Stanford Background データセットがありません。",
    "dataset.unknown_id": "データセットに写真 {image_id!r} はありません: id は 0000047 のような 7 桁の数字です({count} 枚)。",
    "dataset.unavailable_page": "**このサーバーには Stanford Background データセットがない**ため、写真を閲覧できません。`python -m segdemo.data fetch` で取得してアプリを再起動してください。",
    "dataset.intro": "**Stanford Background**(Gould ほか, ICCV 2009)の 715 枚の写真。それぞれ 3 通りにラベル付けされています: **領域**(8 つの意味クラス、モデルが学ぶもの)、**面**(空・水平・垂直: 幾何)、**レイヤー**(領域ごとの id、色に意味はありません)。黒 = ラベルなし。id、ランダム、または含まれるクラスで写真を選べます。",
    "dataset.filter": "次のクラスをすべて含む写真のみ",
    "dataset.split": "分割",
    "dataset.all": "すべて",
    "dataset.training": "学習",
    "dataset.validation": "検証",
    "dataset.photo_id": "写真 id",
    "dataset.found": "{total} 枚中 {count} 枚が該当します。",
    "dataset.none_found": "これらのクラスをすべて含む写真はありません: チェックを 1 つ外してください。",
    "dataset.random": "ランダムな写真",
    "dataset.send": "予測でセグメント",
    "dataset.photo": "写真",
    "dataset.regions": "領域(8 クラス)",
    "dataset.surfaces": "面(3 クラス)",
    "dataset.layers": "レイヤー(領域 id)",
    "dataset.statistics": "データセットの統計",
    "dataset.caption": "**写真 {image_id}**: {width}x{height} 画素、**{split}分割**。レイヤー {layers} 個、ラベルなし {unknown:.1f}%。クラス: {classes}。",
    "dataset.shares_title": "クラスごとのラベル付き画素の割合",
    "dataset.percent_pixels": "ラベル付き画素の %",
    "dataset.class": "クラス",
    "dataset.size_hover": "{width}x{height}: {count} 枚",
    "dataset.sizes_title": "画像サイズ({distinct} 種類)",
    "dataset.width": "幅(画素)",
    "dataset.height": "高さ(画素)",
    "dataset.unknown_title": "写真ごとのラベルなし画素",
    "dataset.percent_unknown": "写真のうちラベルなしの %",
    "dataset.photos": "写真の枚数",
    "errors.intro": "検証写真で各モデルがどこを誤るか。混同行列は行ごとに読みます: ある正解クラスの画素のうち、どの予測クラスにどれだけ割り当てられたか(対角線が正解)。写真は自身の mIoU の低い順に並んでいます。1 枚選ぶ(または行をクリックする)と、写真・正解・予測・誤りが表示されます。",
    "errors.none": "評価済みのモデルがまだありません: `python -m segdemo.evaluate checkpoints/NAME` を実行してください。",
    "errors.hover": "正解 %{{y}}、予測 %{{x}}<br>行の %{{z:.1f}}%、%{{customdata:,}} 画素",
    "errors.share_of_row": "行に占める %",
    "errors.confusion_title": "検証写真での混同行列<br>(各正解クラスの %)",
    "errors.predicted": "予測クラス",
    "errors.true": "正解クラス",
    "errors.iou_title": "クラスごとの IoU(mIoU {miou:.3f})",
    "errors.unknown_model": "モデル {name!r} には表示できる評価がありません(評価済み: {known})。",
    "errors.columns": "順位|写真|mIoU|画素精度",
    "errors.ranking": "検証写真(悪い順)",
    "errors.choose_photo": "写真(悪い順)",
    "errors.caption": "**写真 {image_id}**({split})、{model}({engine}で今実行): 画素精度 {accuracy:.3f}、mIoU {miou:.3f}。ラベル付き画素の {wrong:.1f}% が誤り。順位表は評価時に完全な精度で保存したスコアなので、少し違うことがあります。",
    "errors.app_split": "{split}分割",
    "errors.behind_a_cell": "行列のマスの裏にある写真は?(例: 山を木と予測)",
    "errors.true_class": "正解クラス",
    "errors.predicted_class": "予測されたクラス",
    "errors.find": "写真を探す",
    "errors.confused_photos": "それが起きている写真(画素の多い順、クリックで表示)",
    "errors.confused_columns": "順位|写真|画素数|写真中の正解クラスに占める %",
    "errors.unknown_classes": "このモデルのクラスから 2 つ選んでください: {known}。",
    "errors.own_split": "このモデル独自の検証写真。アプリの分割では{split}分割",
    "errors.own_split_title": "{classes} クラス、独自の検証写真: 8 クラスのモデルとは比べられません",
    "errors.photo": "写真",
    "errors.truth": "正解",
    "errors.prediction": "予測",
    "errors.errors": "誤り(赤)",
    "image.empty": "アップロードが空です。",
    "image.missing": "{name} という画像ファイルはありません。",
    "image.empty_file": "アップロードされたファイルが空です。",
    "image.not_image": "このファイルは画像ではありません(または読めない形式です: JPEG、PNG、WebP、GIF、BMP、TIFF を使ってください)。",
    "image.bomb": "画像が大きすぎます: 最大 {megapixels} メガピクセルです。",
    "image.damaged": "画像ファイルが壊れているか途中で切れています({detail})。",
    "image.channels": "画像には 1、3、4 個の色チャンネルが必要ですが、この配列の形は {shape} です。",
    "image.no_image": "画像がありません: 先に写真をアップロードしてください。",
    "image.shrunk": "大きな写真({width}x{height}): 読み込み時に {new_width}x{new_height} に縮小しました",
    "image.too_small": "画像は {width}x{height} です。各辺に少なくとも {min_side} 画素必要です。",
    "image.animated": "アニメーション画像: {frames} フレームのうち最初のフレームをセグメントしました",
    "image.exif": "EXIF の向き情報に従って正立させました",
    "image.deep": "16 ビットまたは浮動小数点の画像: 8 ビットに変換しました",
    "image.transparent": "透明な部分は白の上に表示しています",
    "learn.explanation": r"""
### 評価指標: ラベルマップはどれだけ良いか
検証セットのラベル付き画素すべてについて、クラス $c$ ごとに数えます: 真陽性 $TP_c$(正解 $c$、予測 $c$)、偽陽性 $FP_c$(予測 $c$、正解は別のクラス)、偽陰性 $FN_c$(正解 $c$、予測は別のクラス)。データセットで「不明」とされた画素はどの集計にも入りません。

| 指標 | 式 | 意味 | 注意点 |
|---|---|---|---|
| **画素精度(全体精度)** | $\frac{\sum_c TP_c}{N}$ | 正しくラベル付けされた画素の割合 | 大きなクラスに支配される: 空と道路で 90% でも車を見逃しているかもしれない |
| **平均(クラス)精度** | $\frac{1}{C}\sum_c \frac{TP_c}{TP_c+FN_c}$ | クラスごとの再現率の平均 | 誤検出を無視する |
| **IoU**(Jaccard) | $\frac{TP_c}{TP_c+FP_c+FN_c}$ | 予測領域と正解領域の重なり | 見逃しと誤検出の両方を罰する |
| **mIoU** | $\frac{1}{C}\sum_c IoU_c$ | 標準的なベンチマーク指標 | 希少なクラスも同じ重み |
| **頻度重み付き IoU** | $\sum_c \frac{N_c}{N} IoU_c$ | クラスの出現頻度で重み付けした IoU | 画素精度と mIoU の中間 |
| **F1 / Dice** | $\frac{2TP_c}{2TP_c+FP_c+FN_c}$ | 適合率と再現率の調和平均 | 常に IoU 以上: $F1 = \frac{2\,IoU}{1+IoU}$ |
| **平均適合率 (AP)** | 確信度のしきい値ごとに $\sum_n (R_n-R_{n-1})P_n$ | 確信度がクラス $c$ の画素をどれだけうまく順位付けるか | arg-max ではなく確率を使う |
| **ハウスドルフ距離 (95%)** | 輪郭間距離の 95 パーセンタイル(双方向) | 輪郭が何画素ずれているか | 正解か予測にクラスがないと定義されない |

スコアは画像ごとやバッチごとの平均ではなく、**データセット全体で合計した 1 つの混同行列**から計算します。そうしないと、空だけの画像が混雑した街路の画像と同じ重みになってしまいます。

### 損失関数: ネットワークが小さくするよう学習する量
$t$ を one-hot の正解、$p$ を画素の予測確率とすると:

- **交差エントロピー** $-\sum_c t_c \log p_c$: 標準。すべての画素が同じ重みなので大きなクラスが支配的になる。
- **Focal** $-(1-p_t)^\gamma \log p_t$: $\gamma>0$ ではすでに正しい画素($p_t$ が大きい)が弱まり、難しい画素が支配的になる。$\gamma=0$ は交差エントロピー。
- **Dice** $1-\frac{1}{C}\sum_c \frac{2\sum t_c p_c}{\sum t_c+\sum p_c}$: クラスごとのソフトな F1。各クラスが同じ重みなので希少クラスに効く。
- **Tversky** $1-\frac{TP}{TP+\alpha FP+\beta FN}$: 誤検出($\alpha$)と見逃し($\beta$)に別々の重みを付けた Dice。$\beta>\alpha$ で小さな物体の再現率を重視する。
- **境界損失(ハウスドルフ型)** $1-BF1$: 輪郭(max-pooling で求める)だけを比べ、$\theta$ 画素以内で一致すれば正解とみなす。面積ベースの損失がほとんど気づかない、ぎざぎざの輪郭やずれを罰する。通常は面積の損失に加えて使う。

配布モデルは **クラス重み付き交差エントロピー + Dice** で学習します: 前者から安定した勾配、後者からクラスのバランスが得られます。重み($w_c \propto 1/\sqrt{\text{クラス } c \text{ の割合}}$、山は約 2.5、道路は約 0.55)が効きます: 重みなしの以前の 12 エポックの学習では、希少な*山*クラス(学習画素の 1%)の IoU は 0.002 でしたが、重みありで学習した配布版 U-Net では約 0.3 です。
""",
    "learn.playground_help": """
濃い輪郭が**正解**(背景上の物体)、予測は動かしたり大きさを変えたりぼかしたりできる正方形です。
緑 = 真陽性、赤 = 偽陽性、青 = 偽陰性。物体を小さくするとクラス不均衡が見えます:
画素精度は高いままなのに、物体の IoU は急落します。

**指標がすべて 1 なのに損失が 0 にならない理由:** 指標は*ラベル*(各画素で最も確率の高いクラス)を数え、損失は*確率*を使います。
ここでの予測は最大でも 98% の確信度で、なめらかさのスライダーが縁をぼかすため、物体の境界の画素は 100% ではなく例えば 60% になります。
ラベルは正しいままですが、Dice と Tversky は物体全体でその足りない分を足し合わせ、クラスごとに平均するので、小さな物体も大きな背景と同じ重みになります。
そのため縁のぼけた小さな物体では Dice 損失が 0.3 前後に残ります。なめらかさを 0 にすると損失はほぼ 0 まで下がります。
ラベルが正しくなった後も学習が損失を下げ続けられるのは、ネットワークをより確信させるためです。
""",
    "architectures.overview": """
これらはすべて**エンコーダ・デコーダ**型のネットワークです。画像分類器(*エンコーダ*、*バックボーン*。
ここでは MobileNetV2 や ResNet)が写真を粗く意味のある特徴へ縮め、*デコーダ*がそれを元の解像度の
ラベルマップに戻します。違いは、デコーダが細部をどう取り戻すかにあります。

| ネットワーク | 年 | アイデア | 長所 | 短所 |
|---|---|---|---|---|
| **FCN** (Long ほか) | 2015 | 分類器の全結合層を 1x1 畳み込みに置き換え、前段のスキップを足しながらアップサンプリング | 初のエンドツーエンドのセグメンテーション | 粗くぼやけた輪郭 |
| **SegNet** (Badrinarayanan ほか) | 2015 | デコーダがエンコーダの max-pooling の*位置*を使って特徴を元に戻す | 省メモリ | 輪郭はまだぼやける |
| **U-Net** (Ronneberger ほか) | 2015 | 対称なデコーダ。各スケールでエンコーダの特徴マップを*連結*する(スキップ接続) | 鋭い輪郭、小さな物体 | 大域的な文脈が少ない |
| **PSPNet** (Zhao ほか) | 2017 | *ピラミッドプーリング*: 特徴マップを 1x1・2x2・3x3・6x6 の格子にプールし、全画素に加える | シーン全体の文脈(上は空、下は道路) | 出力が粗い(8 倍アップサンプリング)ので細い輪郭が苦手 |
| **FPN** (Lin ほか) | 2017 | *特徴ピラミッド*: 粗い意味情報を細かいマップへ足すトップダウン経路で、全スケールから予測 | あらゆる大きさの物体 | デコーダ出力は 1/4 解像度 |
| **DeepLab v3+** (Chen ほか) | 2018 | 複数のレートの *atrous*(膨張)畳み込みと小さなデコーダ | 文脈と細部の両立 | 重い。segmentation-models 1.0.1 にないためここでは実行できない |

**比較タブで見るべき点:** U-Net は細い構造(電柱、木の縁)や小さな物体を保ち、PSPNet は大きな領域と
その配置に自信を持つが角を丸め、FPN はたいていその中間です。不一致マップはまさにその境界の画素を示します。
""",
    "tab.inside": "ネットワークの内側",
    "architectures.to_inside": "これらのネットワークの内側を見る(「ネットワークの内側」タブ)",
    "inside.intro": "### それぞれのネットワークは何を見ているか\nここのネットワークはどれもエンコーダ・デコーダです(「アーキテクチャ」タブ)。このアプリの元になった記事は、すべてに共通する原理を挙げています: **画素の判断に周りの文脈を多く使うほど誤りは減る。ただし文脈は偏り(バイアス)も持ち込む**(道路の上の灰色の部分はたぶん建物。本当は空でも)。**FCN** は畳み込みが見える範囲から各画素を判断し、粗いマップを拡大します。**SegNet** と **U-Net** はエンコーダから細部を取り戻し、**PSPNet** はシーン全体をプールし、**DeepLab** は atrous(膨張)畳み込みで視野を広げます。写真を選び(アップロード、例、またはデータセットの ID)、**1** 画素をクリックして何が判断を決めたかを見る、**2** 各クラスがどこにありそうかを見る、**3** 内部の特徴マップを見る、**4** 一部を隠して他の場所のラベルの変化を見る。どの表示も頼んだときだけ、配布モデルを float32 の完全な精度で計算します。",
    "inside.open_dataset_photo": "このデータセット写真を開く",
    "inside.models": "内側を見るモデル",
    "inside.target": "画素をクリック(モデルが見る 384x288 の写真)",
    "inside.target_help": "この画像のどこかをクリックすると、表示 **1** が選んだ各モデルについてその画素を説明します。位置は下の行・列の欄にも書き込まれます(0 = 上または左、1 = 下または右)。",
    "inside.pixel_tab": "1. この画素を決めたものは?",
    "inside.pixel_help": "色は、入力の各画素がクリックした画素のクラスのスコアをどれだけ強く押したかを示します。そのスコア(softmax の前のロジット)の写真に対する**勾配**で、明るい = 強い。一つずつ部分を隠す方法(オクルージョン)ではなく勾配を使うのは、1 回の逆伝播で 1 秒未満にマップ全体が得られ、ネットワークが見えない場所では正確にゼロになるからです。**白い枠:** *理論的な受容野*。層を通してクリックした画素に届きうる入力画素のすべてで、ネットワークのカーネルサイズとストライドから計算します。これらの MobileNetV2 のネットワークでは写真より大きいので枠は写真全体になり、違いはその中での影響の広がり方に出ます。**水色の四角:** 65x65 画素(幅の 1/6)の局所窓。数値は影響のうち窓の**外**から来る割合です。**オレンジの円:** *実効的な受容野*、影響の 90% が入る半径。PSPNet のピラミッドプーリングは写真全体を平均するので、たいてい影響が最も遠くまで届きます。文脈の原理が目に見える形です。",
    "inside.row": "行(0 上、1 下)",
    "inside.column": "列(0 左、1 右)",
    "inside.explain": "この画素を説明",
    "inside.influence": "クリックした画素への影響",
    "inside.pixel_table": "クリックした画素での各クラスの確率(%)",
    "inside.probabilities_tab": "2. クラスの確率",
    "inside.probabilities_help": "クラスごとの小さなマップで、モデルがそのクラスに高い確率を与える所が明るくなります。最後は**不確かさ**(エントロピー): モデルが確信している所は暗く、クラスの間で迷う所は明るく、境界や山と木のような似たクラスの間によく現れます。U-Net のマップは輪郭が鋭く(デコーダがスキップ接続を通して元の大きさまで戻る)、PSPNet のマップはなめらかな塊です(1/8 の大きさで予測して拡大する。FCN と同じ)。",
    "inside.show_probabilities": "クラスの確率を表示",
    "inside.probabilities": "各クラスの確率と不確かさ",
    "inside.features_tab": "3. 特徴マップ",
    "inside.features_help": "エンコーダ(画像分類器の MobileNetV2)はマップを 5 回半分にします(ストライド 2 から 32)。段ごとに広い範囲を多くのチャンネル(「緑の質感」「まっすぐな縁」のような特徴)で見ますが、細部は減ります。デコーダはそこから戻ります。各画像は写真(左上)と、この写真で**最も活発な 3 チャンネル**(明るい = 活発)を、その段の解像度のまま描くので、どれだけ粗いかが見えます。**U-Net:** デコーダの各段で、拡大された経路(粗いが意味がある)と、結合されるエンコーダからの*スキップ接続*(細かいが単純)を並べます。SegNet と U-Net の考え方です。**PSPNet:** 4 つのプール格子(1x1・2x2・3x3・6x6)を写真に重ねます。各セルはシーンのその部分の平均で、全画素に足し戻されます。**FPN:** 粗い段から細かい段までのピラミッドの各レベルが、セグメンテーション特徴になって結合されます。",
    "inside.show_features": "特徴マップを表示",
    "inside.features": "特徴マップ(エンコーダ、次にデコーダ)",
    "inside.hide_tab": "4. 試す: 一部を隠す",
    "inside.hide_help": "その領域を無地の灰色(ImageNet の平均色。ネットワークには「何もない」と読める)で塗り、各モデルがもう一度ラベルを付けます。**赤い**画素は隠した領域の**外**でラベルが変わった所: 文脈が働いている証拠です。近くしか見ないネットワークは領域のそばの画素だけが変わり、シーン全体をプールするネットワークはどこでも変わりえます。プリセットを選ぶか、「下の枠」を選んで端を写真の高さと幅に対する割合で設定してください。",
    "inside.region": "隠す領域",
    "inside.region.box": "下の枠",
    "inside.region.sky": "空(最初のモデルが空とした所)",
    "inside.region.centre": "中央",
    "inside.region.left": "左半分",
    "inside.region.bottom": "下の 1/3",
    "inside.box_top": "枠の上端",
    "inside.box_left": "枠の左端",
    "inside.box_bottom": "枠の下端",
    "inside.box_right": "枠の右端",
    "inside.hide": "隠して比べる",
    "inside.hidden": "隠した領域の外でラベルが変わった画素(赤)",
    "inside.bad_fraction": "行・列・枠の端は写真の高さと幅に対する 0 から 1 の割合です。受け取った値: {value!r}。",
    "inside.bad_region": "不明な領域 {region!r} です。{known} から選んでください。",
    "inside.nothing_to_hide.sky": "最初に選んだモデルはこの写真に空を見つけません。別の領域を選んでください。",
    "inside.nothing_to_hide.box": "枠が空です。下端を上端より下に、右端を左端より右にしてください。",
    "inside.field_global": "大きさに関係なく写真全体(グローバルプーリング)",
    "inside.field_exceeds": "{height}x{width} 画素で写真より大きい",
    "inside.field_size": "{height}x{width} 画素",
    "inside.pixel_caption": "{model}: {label} {probability:.0f}%",
    "inside.pixel_line": "**{model}**({milliseconds:.0f} ms)の判断は **{label}**({probability:.0f}%)。理論的な受容野: {field}。影響の **{outside:.0f}%** は {window}x{window} の窓の外から来ており、90% は半径 **{radius:.0f} 画素**(幅の {width_share:.0f}%)以内にあります。",
    "inside.class": "クラス",
    "inside.entropy_caption": "不確かさ(エントロピー)",
    "inside.probabilities_note": "**{model}**({milliseconds:.0f} ms): 平均の不確かさ {mean:.2f}(0 = 常に確信、1 = すべてのクラスが同じ確率)。画素の {uncertain:.1f}% は最大値の半分を超えています。",
    "inside.stage.encoder": "エンコーダ、ストライド {stride}: {height}x{width}、{channels} チャンネル",
    "inside.stage.upsampled": "段 {step}、拡大された経路: {height}x{width}、{channels} チャンネル",
    "inside.stage.skip": "段 {step}、エンコーダからのスキップ: {height}x{width}、{channels} チャンネル",
    "inside.stage.joined": "段 {step}、結合後: {height}x{width}、{channels} チャンネル",
    "inside.stage.pooled": "ピラミッドプーリング {step}x{step} 格子(チャンネル {shown}、セルごとに 1 つの平均)",
    "inside.stage.pyramid": "ピラミッドレベル、ストライド {stride}: {height}x{width}、{channels} チャンネル",
    "inside.stage.decoder": "デコーダ出力、ストライド {stride}: {height}x{width}、{channels} チャンネル",
    "inside.features_note.unet": "**{model}**({milliseconds:.0f} ms): ストライド 32 までの 5 段のエンコーダの後、デコーダの各段が拡大された経路とスキップ接続を結合しながら元の大きさに戻ります。",
    "inside.features_note.pspnet": "**{model}**({milliseconds:.0f} ms): エンコーダはストライド 8 で止まり、ピラミッドプーリングが 4 つの格子の大きさでシーン全体を加えます。ラベルマップは 1/8 の大きさで作られ、拡大されます。",
    "inside.features_note.fpn": "**{model}**({milliseconds:.0f} ms): エンコーダはストライド 32 まで下がり、トップダウンのピラミッドが粗い意味情報を細かいマップに加えます。各レベルは拡大・結合されてからラベルマップになります。",
    "inside.features_note.other": "**{model}**({milliseconds:.0f} ms): エンコーダの段、次にデコーダの段。",
    "inside.hide_caption": "{model}: {share:.1f}% が変化",
    "inside.hide_line": "**{model}**({milliseconds:.0f} ms): 隠した領域の外で **{changed} 画素**のラベルが変わりました(その {share:.1f}%)。受容野を通して領域が届きうるのは残りの写真の {reach:.0f}% で、その範囲の外で変わった画素は {beyond} です。",
    "tab.train": "学習",
    "train.intro": "### ネットワークが学ぶ様子を見る\nネットワーク・損失関数・学習量を選んで **学習** を押すと、このページを開いている全員が同じ学習をその場で見られます。曲線は各ステップ後の損失・画素精度・mIoU(そのエポックの移動平均)と、各エポック後の検証写真での値です。下の列は、1 枚の検証写真に対するネットワークの答えを、学習前と各エポック後に正解と並べて示します。このサーバーで同時に動く学習は 1 つだけです。コンピュータのコア 1 つを低い優先度で使うので、ほかのタブの予測は動き続けます。",
    "train.off_env": "**このサーバーでは学習はオフです**(`SEGDEMO_TRAIN_CAP_S=0`)。授業で学習するには自分のコンピュータでアプリを起動してください。",
    "train.off_space": "**この公開サーバーでは学習はオフです:** 1 人の学習がほかの全員の予測を遅くするためです。授業で学習するには自分のコンピュータでアプリを動かす(`python app.py`)か、Space の設定で `SEGDEMO_TRAIN_CAP_S`(1 回の学習の秒数)を設定してください。",
    "train.no_data": "**学習には Stanford Background の写真が必要ですが、このサーバーにはありません。** `python -m segdemo.data fetch` で取得してアプリを再起動してください。",
    "train.no_photo": "**学習の様子を示す検証写真が必要です**が、例の写真が同梱されていません(`python -m segdemo.data examples`)。",
    "train.arch": "ネットワーク",
    "train.loss": "損失関数",
    "train.loss_info": "「学ぶ」タブを参照。0.5*focal+dice のような和も入力できます",
    "train.start": "エンコーダの出発点",
    "train.imagenet": "ImageNet(MobileNetV2)",
    "train.scratch": "ゼロから(ランダム)",
    "train.photos": "学習用の写真の枚数",
    "train.epochs": "エポック数",
    "train.size": "入力の大きさ(画素)",
    "train.size_info": "小さいほど速い。PSPNet は 48 の倍数に丸めます",
    "train.train": "学習",
    "train.stop": "停止",
    "train.keep": "このモデルを予測と比較で使う",
    "train.snapshots": "**1 枚の検証写真:** 正解と、学習前と各エポック後のネットワークの答え(この写真での mIoU)",
    "train.command_title": "同じ学習をターミナルから",
    "train.minutes": "{minutes} 分 {seconds:02d} 秒", "train.seconds": "{seconds} 秒",
    "train.idle": "このサーバーではまだ学習していません。設定を選んで **学習** を押すと、このページの全員が見られます。",
    "train.settings_line": "**{arch}**、損失 {loss}、エンコーダは{start}から、写真 {photos} 枚、{epochs} エポック、{size} 画素({time} 開始)",
    "train.starting": "**準備中**({elapsed}): ネットワークを作り、写真を読み込んでいます。最初のステップは 1 分以内に始まります。",
    "train.training": "**学習中:** エポック {epoch}/{epochs}、ステップ {step}/{steps}(経過 {elapsed}、上限 {cap})。",
    "train.pace": " 毎秒 {rate:.1f} 枚、**残り約 {left}**。",
    "train.finished": "**完了**({elapsed}): {epochs} エポック、検証 mIoU の最高は **{miou}**。",
    "train.capped": "**時間の上限**({cap})で {epochs} エポック後に停止: 検証 mIoU の最高は **{miou}**。",
    "train.stopped": "**停止**({elapsed}、終わったエポック {epochs}): 検証 mIoU の最高は **{miou}**。",
    "train.failed": "**学習に失敗しました:** {error}",
    "train.kept": "予測と比較に *{name}* として追加済み。",
    "train.training_steps": "学習、各ステップ",
    "train.training_epochs": "学習、各エポック",
    "train.validation_epochs": "検証、各エポック",
    "train.photo": "写真",
    "train.truth": "正解",
    "train.before": "学習前",
    "train.after_epoch": "エポック {epoch} 後",
    "train.photo_miou": ": mIoU {miou:.2f}",
    "train.bad_loss": "このアプリが知らない損失関数です: {error}",
    "train.busy": "学習が進行中です。ここで見られます。終わると新しい学習を始められます。",
    "train.no_encoder": "このサーバーには ImageNet のエンコーダの重みがありません。「ゼロから」を選んでください。",
    "train.nothing_to_keep": "使える学習(保存されたエポックがあり、終わったもの)がありません。すでに一覧にあるのかもしれません。",
    "train.keep_failed": "この学習のモデルを読み込めませんでした。",
    "train.not_yours": "この学習を始めた人(またはページを配信しているコンピュータ)だけができます。",
    "train.run_label": "授業の学習 {time}({arch}、{epochs} エポック)",
    "train.kept_info": "{label} を予測と比較の一覧に追加しました。",
}

I18N = gr.I18n(en=EN, ja=JA)
TEXT = {"en": EN, "ja": JA}


def t(key):
    """A translatable label for a component (translated in the browser)."""
    return I18N(key)


def language_of(request):
    """'ja' when the browser's first language is Japanese, else 'en'.

    The page cannot translate what the server writes, so that text follows the request's
    Accept-Language; API clients, which send none, get English.
    """
    header = request.headers.get("accept-language", "") if request is not None else ""
    return "ja" if header.split(",")[0].strip().lower().startswith("ja") else "en"


def say(language, key, **values):
    """The text for ``key`` in ``language`` (English where it has none), filled with ``values``."""
    return TEXT.get(language, EN).get(key, EN[key]).format(**values)


def say_columns(language, key):
    """A table's column headers, kept in the text tables as one 'a|b|c' string."""
    return say(language, key).split("|")


def say_table(language, key, rows):
    """A Dataframe value: ``rows`` under the column headers ``key`` in ``language``."""
    return {"headers": say_columns(language, key), "data": rows}


def say_class(language, name):
    """A class name in ``language``; classes of a checkpoint unknown here keep their own name."""
    return TEXT.get(language, EN).get(f"class.{name}", name)


def say_engine(language, engine):
    """How a model runs, in plain words ("LiteRT int8 weights" -> "compact network, 8-bit weights")."""
    return TEXT.get(language, EN).get(f"engine.{engine}", EN.get(f"engine.{engine}", engine))


def say_message(language, message):
    """A ``segdemo.imaging.Message`` (error or note about an upload) in ``language``."""
    template = TEXT.get(language, EN).get(f"image.{message.key}")
    return template.format(**message.values) if template else str(message)
