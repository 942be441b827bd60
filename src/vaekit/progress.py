"""Progress display for the command line (the library itself never prints)."""

from __future__ import annotations

import time

from tqdm import tqdm


class TrainProgress:
    """One tqdm bar per epoch with live loss, ELBO and KL.

    Reading loss values syncs with the device, so the postfix refreshes at most every 0.5 s.
    """

    def __init__(self, refresh_seconds: float = 0.5, enabled: bool = True):
        self.bar, self.refresh_seconds, self.last_refresh = None, refresh_seconds, 0.0
        self.enabled = enabled  # off on every process of a data-parallel run but the first

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def on_step(self, info) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = tqdm(total=info.steps, desc=f"epoch {info.epoch + 1}", unit="batch", leave=False)
        self.bar.update(1)
        now = time.monotonic()
        if now - self.last_refresh >= self.refresh_seconds or info.step + 1 == info.steps:
            self.last_refresh = now
            terms = info.output.terms
            shown = {"loss": f"{float(info.output.loss.detach()):.2f}"}
            for name in ("elbo", "kl"):
                if name in terms:
                    shown[name] = f"{float(terms[name].detach().mean()):.2f}"
            self.bar.set_postfix(shown, refresh=False)

    def on_epoch(self, state) -> None:
        self.close()
        if not self.enabled:
            return
        row = state.history[-1]
        parts = [f"epoch {row['epoch']}"]
        if "stage" in row:  # a stage after training (a VQ-VAE's code prior), which counts its own epochs
            parts = [f"{row['stage']}: epoch {row['epoch']}/{state.epochs}"]
        for key in ("train_elbo", "val_elbo", "train_kl", "train_log_px_z", "val_log_px_z", "train_code_nll_nats",
                    "val_code_nll_nats"):
            if key in row:
                parts.append(f"{key} {row[key]:.3f}")
        parts.append(f"{row['seconds']:.1f}s")
        tqdm.write("  ".join(parts))
