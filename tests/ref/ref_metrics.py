"""Fixtures for metrics/ from scikit-learn (Debian python3-sklearn) and numpy.

Run: /usr/bin/python3 tests/ref/ref_metrics.py tests/fixtures
Every array is saved as float32 (labels as float class indices); scores are rounded to
float32 BEFORE sklearn sees them, so both sides rank exactly the same values.
Cases avoid 0/0 rates: sklearn 1.2 turns those into 0 while vertebra returns NaN (the
0/0 cases are hand-computed in the C tests)."""
import os, sys
import numpy as np
from sklearn import metrics as skm

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "fixtures")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)


def save(name, arr):
    np.save(os.path.join(OUT, f"metrics_{name}.npy"), np.asarray(arr, dtype=np.float32))


# ---- classification: 4 classes, noisy predictions -------------------------------------------
K = 4
y_true = rng.integers(0, K, 240)
y_pred = np.where(rng.random(240) < 0.6, y_true, rng.integers(0, K, 240))
labels = list(range(K))
cm = skm.confusion_matrix(y_true, y_pred, labels=labels)
p, r, f, s = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
mcm = skm.multilabel_confusion_matrix(y_true, y_pred, labels=labels)  # [[tn, fp], [fn, tp]]
tn, fp, fn = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0]
spec, npv = tn / (tn + fp), tn / (tn + fn)
macro = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro")[:3]
weighted = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, average="weighted")[:3]
save("cls.y_true", y_true)
save("cls.y_pred", y_pred)
save("cls.cm", cm)
save("cls.per_class", np.stack([r, spec, p, npv, f, s]))          # (6, K), rows as named
save("cls.summary", [skm.accuracy_score(y_true, y_pred), *macro, *weighted])  # acc, P R F macro, P R F weighted

# argmax with exact ties in some rows (numpy: first maximum wins)
probs = rng.integers(0, 4, (50, 3)).astype(np.float32) / 4
save("argmax.probs", probs)
save("argmax.pred", np.argmax(probs, axis=1))

# ---- AUROC with many ties, ROC curve, sample weights --------------------------------------------
y = rng.integers(0, 2, 400)
sc = np.round(rng.normal(0.6 * y, 1.0), 1).astype(np.float32)   # rounding -> ties
w = rng.uniform(0.1, 3.0, 400).astype(np.float32)
fpr, tpr, thr = skm.roc_curve(y, sc, drop_intermediate=False)
save("auc.y", y)
save("auc.scores", sc)
save("auc.weights", w)
save("auc.value", [skm.roc_auc_score(y, sc)])
save("auc.weighted_value", [skm.roc_auc_score(y, sc, sample_weight=w.astype(np.float64))])
save("auc.fpr", fpr)
save("auc.tpr", tpr)
save("auc.thr", thr[1:])  # thr[0] is max+1 in sklearn 1.2, +inf in >= 1.3: not compared

# ---- one-vs-rest macro AUROC, 3 classes ---------------------------------------------------------
yk = rng.integers(0, 3, 300)
logits = rng.normal(0, 1, (300, 3)) + 1.2 * np.eye(3)[yk]
pk = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
pk = pk / pk.sum(1, keepdims=True, dtype=np.float64)  # sklearn checks rows sum to 1
save("ovr.y", yk)
save("ovr.probs", pk)
save("ovr.macro", [skm.roc_auc_score(yk, pk, multi_class="ovr", average="macro")])
save("ovr.per_class", [skm.roc_auc_score(yk == c, pk[:, c].astype(np.float32)) for c in range(3)])

# ---- DeLong variance from its definition (O(m n) pair kernel, not the midrank shortcut) -------
yd = rng.integers(0, 2, 120)
sd = np.round(rng.normal(0.8 * yd, 1.0), 1).astype(np.float32)
X, Y = sd[yd == 1].astype(np.float64), sd[yd == 0].astype(np.float64)
psi = (X[:, None] > Y[None, :]) + 0.5 * (X[:, None] == Y[None, :])
v10, v01 = psi.mean(1), psi.mean(0)
var = v10.var(ddof=1) / len(X) + v01.var(ddof=1) / len(Y)
save("delong.y", yd)
save("delong.scores", sd)
save("delong.auc_var", [psi.mean(), var])

# ---- segmentation: Dice = F1 and IoU = Jaccard of the voxel labels ------------------------------
gt = rng.integers(0, 4, 2000)
pred = np.where(rng.random(2000) < 0.7, gt, rng.integers(0, 4, 2000))
save("seg.gt", gt)
save("seg.pred", pred)
save("seg.dice", skm.f1_score(gt, pred, labels=labels, average=None))
save("seg.iou", skm.jaccard_score(gt, pred, labels=labels, average=None))
