"""End-to-end reference: the small CNN of the Fashion-MNIST example, two SGD-momentum
steps on a fixed batch. Saves initial parameters (torch names), the batch, the logits and
loss of step 1, and every parameter and BN buffer after step 2."""
import torch, torch.nn as nn
from common import save, rand

torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
names = {"0": "conv1", "1": "bn1", "4": "conv2", "5": "bn2", "9": "fc1", "11": "fc2"}
def dump(prefix):
    for k, v in m.state_dict().items():
        mod, field = k.split(".")
        if field == "num_batches_tracked": continue
        save(f"{prefix}.{names[mod]}.{field}", v)
dump("smallcnn.init")
x = torch.rand(8, 1, 28, 28)
y = torch.randint(0, 10, (8,))
save("smallcnn.x", x); save("smallcnn.labels", y)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
for step in range(2):
    opt.zero_grad()
    logits = m(x)
    loss = nn.functional.cross_entropy(logits, y)
    if step == 0:
        save("smallcnn.logits", logits); save("smallcnn.loss", loss.reshape(1))
    loss.backward()
    opt.step()
dump("smallcnn.step2")
m.eval()
with torch.no_grad(): save("smallcnn.eval_logits", m(x))
