import pytest

from airspace.web.formatting import clock, duration


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0, "0:00"),
        (45, "0:45"),
        (44.6, "0:45"),
        (112, "1:52"),
        (725, "12:05"),
        (3599, "59:59"),
        (3600, "1 h"),
        (3840, "1 h 4 min"),
        (7199, "1 h 59 min"),
        (-3, "0:00"),
    ],
)
def test_durations_read_as_people_write_them(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_positions_read_as_on_a_player() -> None:
    assert clock(45.9) == "0:45"
    assert clock(3729) == "1:02:09"
