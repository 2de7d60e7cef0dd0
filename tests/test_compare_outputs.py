"""The comparator of the nbval harness: rounding drift passes, a change of meaning fails."""

import pytest

from compare_outputs import first_difference, same_output, same_text, tokens


@pytest.mark.parametrize("reference, fresh", [
    # glued floats measured on a Haswell and on a SkylakeX OpenBLAS kernel
    ("0.011060862455080978", "0.0110608624550812"),
    ("1.8691270101670174", "1.8691270101670623"),
    ("1.2e-05", "1.2000000000000002e-05"),
    ("0.30000000000000004", "0.3"),
    # signed zeros of a rounded table, and the column padding that follows their width
    ("a   -0.000  1", "a    0.000  1"),
    ("x  1.5  \ny  2.5", "x 1.5\ny 2.5"),
    ("'max |z| = 1.99 over 2 laws'", "'max |z| = 1.99 over 2 laws'"),
])
def test_last_digit_drift_passes(reference, fresh):
    assert same_text(reference, fresh), first_difference(reference, fresh)


@pytest.mark.parametrize("reference, fresh", [
    ("0.011060862455080978", "0.011060870000000000"),  # 6th significant digit
    ("1.0", "1.000001"),  # a relative change of 1e-6
    ("'confirmed'", "'refined'"),  # a verdict flips
    ("8040 runs", "8041 runs"),  # an integer count changes
    ("d = 10", "d = 100"),
    ("a  1.5\nb  2.5", "a  1.5\nb  2.5\nc  3.5"),  # a table gains a row
    ("a 1.5\nb 2.5", "a 1.5 b 2.5"),  # line breaks must match
    ("success 12", "success 12.0"),  # an integer never matches a decimal
    ("0.25", "0.26"),  # a value as the page rounds it
])
def test_a_change_of_meaning_fails(reference, fresh):
    assert not same_text(reference, fresh)
    assert first_difference(reference, fresh) is not None


def test_tolerance_near_zero_is_absolute():
    assert same_text("1e-17", "-3e-17")
    assert not same_text("1e-10", "2e-10")


def test_a_sign_after_a_word_is_text():
    assert tokens("x-1 = -0.5") == ["x-", "1", " = ", "-0.5", ""]


def test_payloads_other_than_text_must_be_equal():
    assert same_output(["a 1.5\n", "b 2.5\n"], "a 1.5\nb 2.5000000000000004\n")  # nbformat's line lists
    assert not same_output(["a 1.5\n", "b 2.5\n"], "a 1.5\nb 2.6\n")
    assert same_output({"a": 1}, {"a": 1}) and not same_output({"a": 1.0}, {"a": 1.0000001})
