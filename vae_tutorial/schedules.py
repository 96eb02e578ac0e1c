"""Schedules for the KL weight: linear warm-up of beta and rising capacity C."""

from __future__ import annotations


def linear_ramp(step: int, final: float, ramp_steps: int) -> float:
    """Rise linearly from 0 at step 0 to `final` at `ramp_steps`, then stay there."""
    if ramp_steps <= 0:
        return final
    return final * min(step, ramp_steps) / ramp_steps


def beta_at(step: int, beta: float, warmup_steps: int) -> float:
    """KL warm-up: the weight of the KL term at this optimisation step."""
    return linear_ramp(step, beta, warmup_steps)


def capacity_at(step: int, capacity_max: float, capacity_steps: int) -> float:
    """Controlled capacity (Burgess et al. 2018): the target KL, in nats, at this step."""
    return linear_ramp(step, capacity_max, capacity_steps)
