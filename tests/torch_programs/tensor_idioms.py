# Everyday tensor idioms: creation, dtypes and promotion, views, indexing and assignment, reductions with dim and
# keepdim, comparisons, in-place ops.
import json

import numpy as np
import torch

out = {}
a = torch.arange(12).reshape(3, 4)
out["arange"] = [a.tolist(), a.dtype == torch.int64, a.size(), a.size(1), a.dim(), a.numel()]
f = torch.tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
out["float_default"] = f.dtype == torch.float32
out["int_div"] = (a / 2).dtype == torch.float32
out["int_floor"] = (a // 5).tolist()
out["scalar_keeps_float32"] = (f * 2.5).dtype == torch.float32
out["zero_dim_keeps_float32"] = (f + torch.tensor(1.0, dtype=torch.float64)).dtype == torch.float32
out["bool_mask"] = f[f > 0].tolist()
out["fancy"] = a[[0, 2]][:, [1, 3]].tolist()
out["ellipsis"] = a[..., 1].tolist()
out["none"] = list(a[None, :, None].shape)
out["neg_step"] = a.flip(0)[:, -1].tolist()
out["views"] = [a.view(4, 3).tolist(), a.view(-1).shape[0], a.t().shape[0], list(a.T.shape), list(a.unsqueeze(0).shape),
                list(a.unsqueeze(-1).squeeze(-1).shape), list(a.permute(1, 0).shape), list(a.transpose(0, 1).shape)]
x = torch.zeros(2, 1, 3)
out["expand"] = [list(x.expand(2, 4, 3).shape), list(x.repeat(1, 2, 1).shape), list(x.flatten().shape),
                 list(x.flatten(1).shape), list(x.squeeze().shape), list(x.squeeze(1).shape)]
out["cat_stack"] = [torch.cat([a, a], dim=0).shape[0], torch.cat((a, a), 1).shape[1], list(torch.stack([a, a]).shape),
                    list(torch.stack([a, a], dim=-1).shape)]
out["chunk_split"] = [[c.shape[1] for c in a.chunk(2, dim=1)], [s.shape[1] for s in a.split([1, 3], dim=1)]]
out["reduce"] = [f.sum().item(), f.sum(dim=0).tolist(), f.sum(1, keepdim=True).tolist(), f.mean(dim=-1).tolist(),
                 f.max().item(), f.min().item(), f.argmax().item(), f.argmax(dim=1).tolist(), f.abs().sum().item(),
                 f.std().item(), f.var(dim=0).tolist(), f.prod(1).tolist(), f.norm().item(),
                 f.logsumexp(dim=1).tolist(), f.cumsum(dim=1).tolist(), f.amax(dim=0).tolist()]
mx = f.max(dim=1)
out["max_dim"] = [mx.values.tolist(), mx.indices.tolist(), mx[0].tolist()]
srt = f.sort(dim=1, descending=True)
out["sort"] = [srt.values.tolist(), srt.indices.tolist()]
out["compare"] = [(f > 0).tolist(), (f == 3).any().item(), (f != 0).all().item(), torch.eq(f, f).all().item(),
                  ((f > 0) & (f < 4)).tolist(), (~(f > 0)).tolist()]
out["where"] = torch.where(f > 0, f, torch.zeros_like(f)).tolist()
out["masked_fill"] = f.masked_fill(f < 0, 0.0).tolist()
out["clamp"] = [f.clamp(min=-1.0, max=2.0).tolist(), torch.clamp(f, 0).tolist()]
out["gather"] = torch.gather(f, 1, torch.tensor([[2], [0]])).tolist()
out["index_select"] = f.index_select(1, torch.tensor([0, 2])).tolist()
out["tri"] = [torch.tril(torch.ones(3, 3)).tolist(), torch.triu(torch.ones(3, 3), diagonal=1).tolist()]
out["math"] = [torch.exp(f).sum().item(), torch.log(f.abs()).tolist(), torch.sqrt(f.abs()).tolist(),
               f.sigmoid().tolist(), torch.tanh(f).tolist(), f.relu().tolist(), torch.softmax(f, dim=1).tolist(),
               torch.log_softmax(f, dim=-1).tolist(), f.pow(2).tolist(), (2 ** f).tolist(), f.sign().tolist(),
               torch.matmul(f, f.T).tolist(), (f @ f.t()).tolist(), torch.mm(f, f.T).tolist(),
               torch.bmm(f[None], f.T[None]).tolist(), torch.dot(f[0], f[1]).item(), torch.outer(f[0], f[1]).tolist(),
               torch.einsum("ij,kj->ik", f, f).tolist()]
g = torch.zeros(3, 4)
g[1] = 5
g[:, 0] = torch.tensor([1.0, 2.0, 3.0])
g[g > 4] = -1
g += 1
g.mul_(2).add_(0.5)
g[0, 1:3] *= 10
out["assign_inplace"] = g.tolist()
out["creation"] = [torch.zeros(2, 3).tolist(), torch.ones((2,)).tolist(), torch.full((2, 2), 7).tolist(),
                   torch.eye(2).tolist(), torch.linspace(0, 1, 5).tolist(), torch.arange(1, 2, 0.25).tolist(),
                   torch.zeros_like(f).shape[1], torch.ones_like(a).dtype == torch.int64,
                   torch.full_like(f, 2).sum().item(), torch.empty(2, 3).shape[0],
                   torch.Tensor([1, 2]).dtype == torch.float32,
                   torch.tensor([1, 2]).dtype == torch.long, torch.tensor([True]).dtype == torch.bool,
                   torch.tensor([1.5], dtype=torch.float64).dtype == torch.double]
arr = np.arange(4.0)
shared = torch.from_numpy(arr)
copied = torch.tensor(arr)
arr[0] = 100
out["memory"] = [shared[0].item(), copied[0].item(), torch.as_tensor(arr)[0].item()]
out["convert"] = [f.long().tolist(), f.int().dtype == torch.int32, f.double().dtype == torch.float64,
                  f.bool().tolist(), a.float().dtype == torch.float32, f.to(torch.float64).dtype == torch.float64,
                  f.type(torch.int64).tolist(), f.numpy().tolist(), f.clone().tolist(), f[0, 0].item(),
                  int(torch.tensor(3)), float(torch.tensor(2.5)), f"{torch.tensor(0.123456):.3f}",
                  [10, 20, 30][torch.tensor(1)], f.half().dtype == torch.float16]
out["hash_identity"] = len({f, f.clone(), f}) == 2
print("RESULT", json.dumps(out))
