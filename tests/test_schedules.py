import pytest

from vae_tutorial.schedules import beta_at, capacity_at


@pytest.mark.parametrize("step, expected", [(0, 0.0), (50, 2.0), (100, 4.0), (1000, 4.0)])
def test_warmup_rises_linearly_then_holds(step, expected):
    assert beta_at(step, beta=4.0, warmup_steps=100) == pytest.approx(expected)


def test_no_warmup_means_full_beta_from_the_start():
    assert beta_at(0, beta=2.5, warmup_steps=0) == 2.5


@pytest.mark.parametrize("step, expected", [(0, 0.0), (250, 6.25), (1000, 25.0), (5000, 25.0)])
def test_capacity_reaches_its_maximum(step, expected):
    assert capacity_at(step, capacity_max=25.0, capacity_steps=1000) == pytest.approx(expected)
