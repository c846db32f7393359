"""The channel-last networks compute exactly the published convolutional ones."""

import torch
from torch import nn

from cryin_flows.gan.networks import Generator, PointBranch


def published_generator(n_atoms, latent, channels, body):
    c1, c2, c3 = body

    def bn(c):
        return nn.BatchNorm2d(c, 0.8)

    return nn.ModuleDict(
        {
            "l1": nn.Linear(latent, channels * n_atoms),
            "maps": nn.Sequential(
                nn.ConvTranspose2d(channels, c1, (1, 3)),
                bn(c1),
                nn.ReLU(),
                nn.ConvTranspose2d(c1, c2, (1, 1)),
                bn(c2),
                nn.ReLU(),
                nn.ConvTranspose2d(c2, c3, (1, 1)),
                bn(c3),
                nn.ReLU(),
                nn.ConvTranspose2d(c3, 1, (1, 1)),
                nn.Sigmoid(),
            ),
        }
    )


def run_published(net, z, channels, n_atoms):
    h = torch.relu(net["l1"](z)).view(z.shape[0], channels, n_atoms, 1)
    return net["maps"](h)[:, 0]


def test_generator_matches_the_convolutional_original():
    torch.manual_seed(0)
    n, latent, channels, body = 7, 5, 4, (6, 8, 6)
    ours = Generator(n, latent, channels, 0.8, body)
    pub = published_generator(n, latent, channels, body)
    with torch.no_grad():
        pub["l1"].load_state_dict(ours.project.state_dict())
        convs = [m for m in pub["maps"] if isinstance(m, nn.ConvTranspose2d)]
        bns = [m for m in pub["maps"] if isinstance(m, nn.BatchNorm2d)]
        w = ours.expand.weight.view(3, body[0], channels)  # [w, o, c]
        convs[0].weight.copy_(w.permute(2, 1, 0)[:, :, None, :])
        convs[0].bias.copy_(ours.expand_bias)
        linears = [m for m in ours.body if isinstance(m, nn.Linear)]
        for conv, lin in zip(convs[1:], linears, strict=True):
            conv.weight.copy_(lin.weight.T[:, :, None, None])
            conv.bias.copy_(lin.bias)
        for pub_bn, our_bn in zip(
            bns, [m for m in ours.body if isinstance(m, nn.BatchNorm1d)], strict=True
        ):
            pub_bn.load_state_dict(our_bn.state_dict())
    z = torch.randn(4, latent)
    assert torch.allclose(ours(z), run_published(pub, z, channels, n), atol=1e-6)  # train mode
    ours.eval()
    pub.eval()
    assert torch.allclose(ours(z), run_published(pub, z, channels, n), atol=1e-6)


def test_critic_branch_matches_conv2d():
    torch.manual_seed(1)
    branch = PointBranch(4, [3, 2], "avg", (8, 8, 6))
    convs = nn.Sequential(
        nn.Conv2d(1, 8, (1, 4)),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, 8, (1, 1)),
        nn.LeakyReLU(0.2),
        nn.Conv2d(8, 6, (1, 1)),
        nn.LeakyReLU(0.2),
    )
    linears = [m for m in branch.layers if isinstance(m, nn.Linear)]
    with torch.no_grad():
        convs[0].weight.copy_(linears[0].weight[:, None, None, :])
        for conv, lin in zip([convs[0], convs[2], convs[4]], linears, strict=True):
            if conv is not convs[0]:
                conv.weight.copy_(lin.weight[:, :, None, None])
            conv.bias.copy_(lin.bias)
    x = torch.rand(3, 5, 4)
    h = convs(x[:, None])[..., 0]  # (B, C, N)
    expected = torch.cat([h[:, :, :3].mean(2), h[:, :, 3:].mean(2)], dim=1)
    assert torch.allclose(branch(x), expected, atol=1e-6)


def test_initial_weight_spread_matches_the_convolutions():
    torch.manual_seed(0)
    from cryin_flows.gan.networks import init_weights

    gen = Generator(264)
    gen.apply(init_weights)
    conv = nn.ConvTranspose2d(128, 256, (1, 3))
    nn.init.xavier_uniform_(conv.weight)
    assert abs(gen.expand.weight.abs().max() - conv.weight.abs().max()) < 1e-3
