"""Interface text in English and Japanese, shown in the browser's language (English otherwise)."""
import gradio as gr

EN = {
    "title": "segdemo: semantic segmentation, explained",
    "intro": "Upload an outdoor photo and every pixel gets a class: sky, tree, road, grass, water, building, mountain or foreground object. Models trained on the Stanford Background dataset (Gould et al., ICCV 2009).",
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
    "final_metrics": "Final validation metrics (metrics.json)",
    "playground": "Playground: move the predicted square against the true one",
    "shift_x": "Shift right (pixels)",
    "shift_y": "Shift down (pixels)",
    "grow": "Grow / shrink (pixels)",
    "softness": "Softness of the predicted probabilities",
    "gamma": "Focal loss gamma",
    "imbalance": "Class imbalance: size of the object (pixels per side)",
    "metric_table": "Metrics and losses, computed live by segdemo",
    "no_models": "No trained model is available yet.",
}

JA = {
    "title": "segdemo: セマンティックセグメンテーションを理解する",
    "intro": "屋外の写真をアップロードすると、すべての画素にクラス(空・木・道路・草地・水・建物・山・前景物体)が割り当てられます。モデルは Stanford Background データセット(Gould ほか, ICCV 2009)で学習しています。",
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
    "final_metrics": "最終検証指標(metrics.json)",
    "playground": "実験場: 予測した正方形を正解の正方形に対して動かす",
    "shift_x": "右へずらす(画素)",
    "shift_y": "下へずらす(画素)",
    "grow": "拡大 / 縮小(画素)",
    "softness": "予測確率のなめらかさ",
    "gamma": "Focal loss の gamma",
    "imbalance": "クラス不均衡: 物体の大きさ(一辺の画素数)",
    "metric_table": "segdemo がその場で計算する指標と損失",
    "no_models": "学習済みモデルはまだありません。",
}

I18N = gr.I18n(en=EN, ja=JA)


def t(key):
    """A translatable label for a component (translated in the browser)."""
    return I18N(key)
