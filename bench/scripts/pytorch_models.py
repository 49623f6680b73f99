#!/usr/bin/env python3
"""The trainer's three networks in PyTorch, timed like `cargo bench -p vigil-trainer --bench train`.

Not run in CI. Same shapes (batch 64, window 30, 3 features, hidden 64, latent 16), same
synthetic series, Adam, median of 3 timed repeats after a warm-up; prints the same table.

    pip install torch --index-url https://download.pytorch.org/whl/cpu   # or plain `pip install torch`
    python3 bench/scripts/pytorch_models.py --threads 1
    python3 bench/scripts/pytorch_models.py --threads 2
"""
import argparse
import math
import statistics
import time

import torch
from torch import nn

BATCH, WINDOW, FEATURES, HIDDEN, LATENT = 64, 30, 3, 64, 16
TRAIN_BATCHES, INFER_BATCHES = 20, 40


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, FEATURES)

    def errors(self, x):  # x: [B, WINDOW + 1, F]
        window, target = x[:, :WINDOW], x[:, WINDOW:]
        out, _ = self.lstm(window)
        y = self.head(out[:, -1]).unsqueeze(1) + window[:, -1:]
        return (y - target) ** 2


class LstmAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.to_latent = nn.Linear(HIDDEN, LATENT)
        self.decoder = nn.LSTM(LATENT, HIDDEN, batch_first=True)
        self.head = nn.Linear(HIDDEN, FEATURES)

    def errors(self, x):
        window = x[:, :WINDOW]
        _, (h, _) = self.encoder(window)
        z = torch.tanh(self.to_latent(h[-1]))
        out, _ = self.decoder(z.unsqueeze(1).expand(-1, WINDOW, -1))
        return (self.head(out) - window) ** 2


class DenseAutoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        flat = WINDOW * FEATURES
        self.net = nn.Sequential(
            nn.Linear(flat, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, LATENT), nn.ReLU(),
            nn.Linear(LATENT, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, flat))

    def errors(self, x):
        window = x[:, :WINDOW]
        return (self.net(window.reshape(len(window), -1)).reshape(window.shape) - window) ** 2


def batches(horizon):
    n = 20_000
    i = torch.arange(n * FEATURES, dtype=torch.float32)
    series = torch.sin((i // FEATURES) * 0.05 + (i % FEATURES)).reshape(n, FEATURES)
    series = (series - series.mean(0)) / series.std(0)
    span = WINDOW + horizon
    starts = range(0, BATCH * INFER_BATCHES)
    windows = torch.stack([series[s:s + span] for s in starts])
    return list(windows.split(BATCH))


def measure(make, data):
    train = []
    for rep in range(4):
        model = make()
        optim = torch.optim.Adam(model.parameters(), lr=1e-3)
        began = time.perf_counter()
        for x in data[:TRAIN_BATCHES]:
            optim.zero_grad()
            loss = model.errors(x).mean()
            loss.backward()
            optim.step()
        if rep:
            train.append(TRAIN_BATCHES * BATCH / (time.perf_counter() - began))
    model = make()
    infer = []
    with torch.no_grad():
        for rep in range(4):
            began = time.perf_counter()
            for x in data:
                model.errors(x).sum().item()
            if rep:
                infer.append(len(data) * BATCH / (time.perf_counter() - began))
    return statistics.median(train), statistics.median(infer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    print(f"PyTorch {torch.__version__}, {args.threads} thread(s); batch {BATCH}, window {WINDOW}, "
          f"{FEATURES} features, hidden {HIDDEN}; median of 3 after a warm-up\n")
    print("| model | backend | train samples/s | inference windows/s |")
    print("|---|---|---|---|")
    for name, make, horizon in [("lstm_forecaster", Forecaster, 1),
                                ("lstm_autoencoder", LstmAutoencoder, 0),
                                ("dense_autoencoder", DenseAutoencoder, 0)]:
        t, i = measure(make, batches(horizon))
        print(f"| {name} | pytorch | {t:.0f} | {i:.0f} |")


if __name__ == "__main__":
    main()
