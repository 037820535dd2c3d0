"""Fixtures for losses/losses_extra.h: L1 / smooth L1 / Huber (torch.nn.functional), sigmoid
focal and GIoU (torchvision.ops), soft Dice (MONAI DiceLoss, re-implemented below from its
source since MONAI is not installed), Adaptive Wing (ivadomed AdapWingLoss, from the paper's
formula), SupCon (the official SupConLoss) and uncertainty weighting. Class-index labels and
targets of non-differentiable inputs get no gradient files."""
import torch
import torch.nn.functional as F
import torchvision.ops as tvo
from common import case, rand

torch.manual_seed(7)


def red(loss, reduction, per_sample=None):
    if reduction == "mean":
        return loss.mean().reshape(1)
    if reduction == "sum":
        return loss.sum().reshape(1)
    if reduction == "per_sample":
        return loss.reshape(loss.shape[0], -1).mean(1)
    return loss


# ---- L1 / smooth L1 / Huber ---------------------------------------------------------------------
xr, tr = rand(3, 4, 5, lo=-2, hi=2), rand(3, 4, 5, lo=-2, hi=2)
case("l1_mean", lambda x, t: F.l1_loss(x, t).reshape(1), [xr, tr])
case("l1_none", lambda x, t: F.l1_loss(x, t, reduction="none"), [xr, tr])
case("smooth_l1_mean", lambda x, t: F.smooth_l1_loss(x, t, beta=1.0).reshape(1), [xr, tr])
case("smooth_l1_b05_sum", lambda x, t: F.smooth_l1_loss(x, t, beta=0.5, reduction="sum").reshape(1), [xr, tr])
case("smooth_l1_b0_none", lambda x, t: F.smooth_l1_loss(x, t, beta=0.0, reduction="none"), [xr, tr])
case("huber_d2_mean", lambda x, t: F.huber_loss(x, t, delta=2.0).reshape(1), [xr, tr])
case("huber_d03_per_sample", lambda x, t: F.huber_loss(x, t, delta=0.3, reduction="none").reshape(3, -1).mean(1),
     [xr, tr])

# ---- sigmoid focal ------------------------------------------------------------------------------
xf, tf = rand(4, 3, 2, 2, lo=-4, hi=4), (rand(4, 3, 2, 2) > 0.3).float()
focal = tvo.sigmoid_focal_loss
case("focal_default_none", lambda x, t: focal(x, t), [xf, tf], grads=[True, False])
case("focal_mean", lambda x, t: focal(x, t, alpha=0.25, gamma=2.0, reduction="mean").reshape(1),
     [xf, tf], grads=[True, False])
case("focal_soft_noalpha_sum", lambda x, t: focal(x, t, alpha=-1, gamma=1.5, reduction="sum").reshape(1),
     [xf, rand(4, 3, 2, 2, lo=0, hi=1)])
case("focal_g0_per_sample", lambda x, t: focal(x, t, alpha=0.6, gamma=0.0).reshape(4, -1).mean(1),
     [xf, tf], grads=[True, False])


# ---- soft Dice: monai.losses.DiceLoss.forward (MONAI 1.x) without the optional branches -------
def monai_dice(sigmoid=False, softmax=False, to_onehot_y=False, include_background=True,
               squared_pred=False, batch=False, smooth_nr=1e-5, smooth_dr=1e-5, reduction="mean"):
    def f(input, target):
        if sigmoid:
            input = torch.sigmoid(input)
        n_pred_ch = input.shape[1]
        if softmax and n_pred_ch > 1:
            input = torch.softmax(input, 1)
        if to_onehot_y and n_pred_ch > 1:
            t = target.long()
            if t.dim() == input.dim():
                t = t[:, 0]
            target = F.one_hot(t, n_pred_ch).movedim(-1, 1).float()
        if not include_background and n_pred_ch > 1:
            target, input = target[:, 1:], input[:, 1:]
        reduce_axis = list(range(2, input.dim()))
        if batch:
            reduce_axis = [0] + reduce_axis
        intersection = torch.sum(target * input, dim=reduce_axis)
        if squared_pred:
            ground_o, pred_o = torch.sum(target ** 2, dim=reduce_axis), torch.sum(input ** 2, dim=reduce_axis)
        else:
            ground_o, pred_o = torch.sum(target, dim=reduce_axis), torch.sum(input, dim=reduce_axis)
        fl = 1.0 - (2.0 * intersection + smooth_nr) / (ground_o + pred_o + smooth_dr)
        if reduction == "per_sample":
            return fl.mean(1)
        return red(fl, reduction)
    return f


x2d, t2d = rand(2, 3, 5, 4, lo=-3, hi=3), (rand(2, 3, 5, 4) > 0.2).float()
x3d = rand(2, 2, 3, 4, 3, lo=-3, hi=3)
y3d = torch.randint(0, 2, (2, 1, 3, 4, 3)).float()
case("dice_sigmoid_2d", monai_dice(sigmoid=True), [x2d, t2d])
case("dice_softmax_nobg_2d", monai_dice(softmax=True, include_background=False), [x2d, t2d],
     grads=[True, False])
case("dice_squared_batch_2d", monai_dice(sigmoid=True, squared_pred=True, batch=True, reduction="sum"),
     [x2d, rand(2, 3, 5, 4, lo=0, hi=1)])
case("dice_none_act_none_2d", monai_dice(reduction="none"), [rand(2, 3, 5, 4, lo=0, hi=1), t2d])
case("dice_softmax_onehot_3d", monai_dice(softmax=True, to_onehot_y=True), [x3d, y3d], grads=[True, False])
case("dice_onehot_smooth_per_sample_3d",
     monai_dice(softmax=True, to_onehot_y=True, include_background=False, smooth_nr=0.0, smooth_dr=1e-3,
                reduction="per_sample"),
     [rand(2, 3, 2, 3, 4, lo=-3, hi=3), torch.randint(0, 3, (2, 2, 3, 4)).float()], grads=[True, False])


# ---- Adaptive Wing: ivadomed AdapWingLoss (its weight map evaluates to all ones) ---------------
def adaptive_wing(theta=0.5, alpha=2.1, omega=14.0, epsilon=1.0, reduction="mean"):
    def f(input, target):
        a = omega * (1 / (1 + torch.pow(theta / epsilon, alpha - target))) * (alpha - target) \
            * torch.pow(theta / epsilon, alpha - target - 1) * (1 / epsilon)
        c = theta * a - omega * torch.log(1 + torch.pow(theta / epsilon, alpha - target))
        diff = torch.abs(target - input)
        loss = torch.where(diff < theta, omega * torch.log(1 + torch.pow(diff / epsilon, alpha - target)),
                           a * diff - c)
        return red(loss, reduction)
    return f


yhat = rand(2, 1, 4, 5, lo=-0.3, hi=1.3)
yaw = rand(2, 1, 4, 5, lo=0, hi=1)
yaw[0, 0, 0, :3] = yhat[0, 0, 0, :3]  # d = 0 exactly: value 0, gradient 0
case("awing_default", adaptive_wing(), [yhat, yaw])
case("awing_binary_target_none", adaptive_wing(reduction="none"), [yhat, (yaw > 0.5).float()])
case("awing_params_sum", adaptive_wing(theta=0.3, alpha=2.5, omega=5.0, epsilon=0.5, reduction="sum"),
     [rand(2, 2, 3, 2, 2, lo=-1, hi=2), rand(2, 2, 3, 2, 2, lo=0, hi=1)])


# ---- SupCon: the official SupConLoss (HobbitLong/SupContrast losses.py, with mask_pos_pairs) --------------------
def official_supcon(features, labels=None, temperature=0.07, contrast_mode="all", base_temperature=0.07,
                    exclude_no_positive=False):
    batch_size = features.shape[0]
    if labels is None:
        mask = torch.eye(batch_size, dtype=torch.float32)
    else:
        labels = labels.contiguous().view(-1, 1)
        mask = torch.eq(labels, labels.T).float()
    contrast_count = features.shape[1]
    contrast_feature = torch.cat(torch.unbind(features, dim=1), dim=0)
    anchor_feature, anchor_count = contrast_feature, contrast_count
    anchor_dot_contrast = torch.div(torch.matmul(anchor_feature, contrast_feature.T), temperature)
    logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
    logits = anchor_dot_contrast - logits_max.detach()
    mask = mask.repeat(anchor_count, contrast_count)
    logits_mask = torch.scatter(torch.ones_like(mask), 1, torch.arange(batch_size * anchor_count).view(-1, 1), 0)
    mask = mask * logits_mask
    exp_logits = torch.exp(logits) * logits_mask
    log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
    mask_pos_pairs = mask.sum(1)
    has_pos = mask_pos_pairs >= 1e-6
    mask_pos_pairs = torch.where(mask_pos_pairs < 1e-6, torch.ones_like(mask_pos_pairs), mask_pos_pairs)
    mean_log_prob_pos = (mask * log_prob).sum(1) / mask_pos_pairs
    loss = -(temperature / base_temperature) * mean_log_prob_pos
    if exclude_no_positive:  # vertebra's documented choice: singletons leave the mean
        return loss, has_pos
    return loss.view(anchor_count, batch_size).mean()


def supcon(temperature=0.07, base_temperature=0.07, reduction="mean"):
    def f(feat, lab):  # feat (N, D) one row per view -> official layout (N, 1, D)
        z = F.normalize(feat, dim=1)[:, None, :]
        loss, has_pos = official_supcon(z, lab, temperature, "all", base_temperature, exclude_no_positive=True)
        if reduction == "mean":
            return (loss.sum() / has_pos.sum()).reshape(1)
        return red(loss, reduction)
    return f


feat = rand(8, 5)
lab = torch.tensor([0, 1, 0, 2, 1, 0, 3, 2]).float()  # class 3 is a singleton: excluded
case("supcon_mean", supcon(), [feat, lab], grads=[True, False])
case("supcon_t05_none", supcon(temperature=0.5, base_temperature=0.07, reduction="none"), [feat * 3, lab],
     grads=[True, False])
case("supcon_all_positive", supcon(temperature=0.2, base_temperature=0.2), [rand(6, 4), torch.zeros(6)],
     grads=[True, False])
# InfoNCE / NT-Xent: the official loss with labels=None on 2 views of 4 images equals SupCon on the
# views flattened view-major with the image index as label
views = rand(4, 2, 6)
case("supcon_infonce",
     lambda flat, lab: official_supcon(F.normalize(torch.stack(flat.split(4, 0), 1), dim=2), None, 0.1,
                                       base_temperature=0.1).reshape(1),
     [torch.cat(torch.unbind(views, 1), 0), torch.tensor([0, 1, 2, 3, 0, 1, 2, 3]).float()],
     grads=[True, False])


# ---- GIoU -----------------------------------------------------------------------------------------
def boxes(n):
    xy = rand(n, 2, lo=0, hi=6)
    wh = rand(n, 2, lo=0.5, hi=4)
    return torch.cat([xy, xy + wh], 1)


b1, b2 = boxes(6), boxes(6)
b2[0] = b1[0] + torch.tensor([0.5, 0.25, 0.5, 0.25])  # partial overlap
b2[1] = b1[1] + torch.tensor([10.0, 10.0, 10.0, 10.0])  # disjoint
b2[2] = torch.tensor([b1[2, 0].item() - 1, b1[2, 1].item() - 1, b1[2, 2].item() + 1, b1[2, 3].item() + 1])  # contains
case("giou_none", lambda a, b: tvo.generalized_box_iou_loss(a, b), [b1, b2])
case("giou_mean", lambda a, b: tvo.generalized_box_iou_loss(a, b, reduction="mean").reshape(1), [b1, b2])
case("giou_sum", lambda a, b: tvo.generalized_box_iou_loss(a, b, reduction="sum").reshape(1), [b1, b2])


# ---- uncertainty weighting: inputs log_vars (3), three scalar task losses ------------------------
def uw(kinds):
    c = {"plain": (1.0, 1.0), "reg": (0.5, 0.5), "cls": (1.0, 0.5)}
    def f(s, l0, l1, l2):
        total = 0
        for i, (k, li) in enumerate(zip(kinds, (l0, l1, l2))):
            a, b = c[k]
            total = total + a * torch.exp(-s[i]) * li + b * s[i]
        return total.reshape(1)
    return f


sv = torch.tensor([0.3, -0.5, 1.2])
case("uw_plain", uw(["plain"] * 3), [sv, torch.tensor([0.7]), torch.tensor([2.5]), torch.tensor([0.1])])
case("uw_mixed", uw(["reg", "cls", "plain"]), [sv, torch.tensor([0.7]), torch.tensor([2.5]), torch.tensor([0.1])])
