"""Fee rounding (half up to the minor unit) and the split of a payment at refund and release."""

import pytest

from blueprints.payments.fees import fee, refund_allocation, release_split


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (1005, 1000, 101),  # 100.5 -> 101: half rounds up
        (1004, 1000, 100),  # 100.4 -> 100
        (1015, 1000, 102),  # 101.5 -> 102
        (1, 5000, 1),  # 0.5 -> 1
        (1, 4999, 0),
        (0, 1000, 0),
        (10_000, 0, 0),
        (999_999_999_999, 10_000, 999_999_999_999),
    ],
)
def test_fee_rounds_half_up_to_the_minor_unit(amount, bps, expected):
    assert fee(amount, bps) == expected


def test_fee_refuses_negative_inputs():
    with pytest.raises(ValueError):
        fee(-1, 100)
    with pytest.raises(ValueError):
        fee(100, -1)


def test_release_split_takes_commission_on_item_and_keeps_buyer_fee():
    split = release_split(amount=10_000, buyer_fee=500, refunded=0, platform_fee_bps=1000)
    assert (split.seller, split.platform) == (9_000, 1_500)
    assert split.total == 10_500


def test_release_split_after_partial_refund_applies_commission_to_what_is_left():
    split = release_split(amount=10_000, buyer_fee=500, refunded=2_005, platform_fee_bps=1000)
    # item left 7,995; 10% = 799.5 -> 800
    assert (split.seller, split.platform) == (7_195, 1_300)
    assert split.total == 10_500 - 2_005


def test_refunds_come_off_the_item_first_then_the_buyer_fee():
    assert refund_allocation(amount=1000, buyer_fee=50, refunded=0, refund=400) == (400, 0)
    assert refund_allocation(amount=1000, buyer_fee=50, refunded=900, refund=130) == (100, 30)
    assert refund_allocation(amount=1000, buyer_fee=50, refunded=1030, refund=20) == (0, 20)
    with pytest.raises(ValueError):
        refund_allocation(amount=1000, buyer_fee=50, refunded=1030, refund=21)
