# Autograd idioms: torch.autograd.grad, retain_grad, gradient accumulation, retain_graph, detach, no_grad,
# set_grad_enabled, grad_fn names, and the errors PyTorch users rely on.
import json

import torch

out = {}
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 2).sum()
(gx,) = torch.autograd.grad(y, x)
out["grad"] = gx.tolist()
out["grad_fn"] = [type(y.grad_fn).__name__.rstrip("0123456789"), x.grad_fn is None, y.is_leaf, x.is_leaf]

h = x * 3
h.retain_grad()
z = (h * h).mean()
z.backward(retain_graph=True)
out["retained"] = h.grad.tolist()
z.backward()
out["accumulated"] = x.grad.tolist()
x.grad.zero_()
w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
v = torch.tensor([1.0, -1.0])
(w @ v).sum().backward()
out["matvec"] = w.grad.tolist()

d = x.detach()
out["detach"] = [d.requires_grad, d.grad_fn is None]
with torch.no_grad():
    n = x * 2
out["no_grad"] = [n.requires_grad, torch.is_grad_enabled()]
with torch.set_grad_enabled(False):
    m = x * 2
out["set_grad_enabled"] = m.requires_grad


@torch.no_grad()
def predict(t):
    return t * 10


out["decorated"] = predict(x).requires_grad
with torch.inference_mode():
    i = x + 1
out["inference_mode"] = i.requires_grad
with torch.enable_grad():
    e = x * 1
out["enable_grad"] = e.requires_grad

a = torch.tensor([2.0, 4.0], requires_grad=True)
b = torch.tensor([1.0, 3.0], requires_grad=True)
ga, gb = torch.autograd.grad((a * b).sum(), [a, b], retain_graph=True)
out["two_inputs"] = [ga.tolist(), gb.tolist()]
(gv,) = torch.autograd.grad(a * b, a, grad_outputs=torch.tensor([1.0, -1.0]))
out["grad_outputs"] = gv.tolist()

errors = []
try:
    leaf = torch.ones(2, requires_grad=True)
    leaf += 1
except RuntimeError:
    errors.append("leaf in-place")
try:
    q = torch.ones(2, requires_grad=True)
    r = (q * q).sum()
    r.backward()
    r.backward()
except RuntimeError:
    errors.append("second backward")
try:
    s = torch.ones(3, requires_grad=True)
    t = s.exp()
    t.add_(1)
    t.sum().backward()
except RuntimeError:
    errors.append("modified saved tensor")
try:
    torch.ones(2, 3) @ torch.ones(2, 3)
except RuntimeError:
    errors.append("matmul shapes")
try:
    torch.ones(2, 3) + torch.ones(4)
except RuntimeError:
    errors.append("broadcast")
ok = torch.ones(3, requires_grad=True)
u = ok * 2
u.add_(1)  # in place on a non-leaf whose backward saved nothing: allowed
u.sum().backward()
out["inplace_nonleaf_grad"] = ok.grad.tolist()
out["errors"] = errors
print("RESULT", json.dumps(out))
