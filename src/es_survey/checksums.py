"""Check digits of Polish register numbers: REGON, NIP, and the format of KRS numbers.

Each ``*_problem`` function returns ``None`` for a valid number and otherwise a
sentence saying what is wrong, so the validator can put it in the problems table.
The ``is_valid_*`` functions are the boolean form.

References
----------
Rozporządzenie Rady Ministrów z 30.11.2015 w sprawie sposobu i metodologii
prowadzenia i aktualizacji krajowego rejestru urzędowego podmiotów gospodarki
narodowej (REGON check digit, weights 8 9 2 3 4 5 6 7 and 2 4 8 5 0 9 7 3 6 1 2 4 8);
Rozporządzenie Ministra Finansów z 1995 r. w sprawie szczegółowych zasad nadawania
NIP (weights 6 5 7 2 3 4 5 6 7).
"""

from __future__ import annotations

__all__ = [
    "is_valid_krs",
    "is_valid_nip",
    "is_valid_regon",
    "krs_problem",
    "nip_problem",
    "regon_problem",
]

_REGON9_WEIGHTS = (8, 9, 2, 3, 4, 5, 6, 7)
_REGON14_WEIGHTS = (2, 4, 8, 5, 0, 9, 7, 3, 6, 1, 2, 4, 8)
_NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    """Weighted sum modulo 11 (10 is returned as is)."""
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


def regon_problem(value: str) -> str | None:
    """Say what is wrong with a REGON number, or return ``None`` if it is valid.

    A 9-digit REGON's last digit is ``sum(d_i * w_i) mod 11`` with weights
    8 9 2 3 4 5 6 7 (a remainder of 10 gives 0). A 14-digit REGON (local unit)
    starts with the valid 9-digit REGON of its parent and its last digit uses
    weights 2 4 8 5 0 9 7 3 6 1 2 4 8 in the same way.

    Parameters
    ----------
    value : str
        The number as digits (separators already removed).

    Returns
    -------
    str or None

    Examples
    --------
    >>> regon_problem("000331501") is None  # Główny Urząd Statystyczny
    True
    >>> regon_problem("000331502")
    "REGON '000331502' fails its check digit: the last digit should be 1, not 2"
    """
    if not value.isdigit() or len(value) not in (9, 14):
        return f"REGON {value!r} is not 9 or 14 digits"
    if len(value) == 14:
        head = regon_problem(value[:9])
        if head is not None:
            return f"REGON {value!r}: its first 9 digits are no valid REGON ({head})"
        expected = _check_digit(value[:13], _REGON14_WEIGHTS) % 10
    else:
        expected = _check_digit(value[:8], _REGON9_WEIGHTS) % 10
    if int(value[-1]) != expected:
        hint = ""
        if len(value) == 14 and value.endswith("00000"):
            hint = (
                "; KRS extracts write a 9-digit REGON padded with 00000 — if so, "
                "use its first 9 digits"
            )
        return (
            f"REGON {value!r} fails its check digit: the last digit should be "
            f"{expected}, not {value[-1]}{hint}"
        )
    return None


def nip_problem(value: str) -> str | None:
    """Say what is wrong with a NIP (tax number), or return ``None`` if it is valid.

    The 10th digit is ``sum(d_i * w_i) mod 11`` over the first nine digits with
    weights 6 5 7 2 3 4 5 6 7; a remainder of 10 is never issued, so such a number
    is invalid.

    Parameters
    ----------
    value : str
        The number as 10 digits (hyphens and spaces already removed).

    Returns
    -------
    str or None

    Examples
    --------
    >>> nip_problem("5261040828") is None  # Główny Urząd Statystyczny
    True
    >>> nip_problem("5261040829")
    "NIP '5261040829' fails its check digit: the last digit should be 8, not 9"
    """
    if not value.isdigit() or len(value) != 10:
        return f"NIP {value!r} is not 10 digits"
    expected = _check_digit(value[:9], _NIP_WEIGHTS)
    if expected == 10:
        return f"NIP {value!r} is invalid: its weighted sum gives remainder 10, never issued"
    if int(value[-1]) != expected:
        return (
            f"NIP {value!r} fails its check digit: the last digit should be "
            f"{expected}, not {value[-1]}"
        )
    return None


def krs_problem(value: str) -> str | None:
    """Say what is wrong with the format of a KRS number, or return ``None``.

    KRS numbers have **no check digit**: only the format can be checked — 10 digits
    once zero-padded on the left (``6865`` is written ``0000006865``). A number of
    the right form may still not exist in the register.

    Parameters
    ----------
    value : str
        The number as read (the reader zero-pads digit strings to 10).

    Returns
    -------
    str or None

    Examples
    --------
    >>> krs_problem("0000006865") is None
    True
    >>> print(krs_problem("00000O6865"))
    KRS '00000O6865' is not 10 digits (KRS numbers have no check digit;
    only the format is checked)
    """
    if value.isdigit() and len(value.zfill(10)) == 10:
        return None
    return (
        f"KRS {value!r} is not 10 digits (KRS numbers have no check digit; "
        f"only the format is checked)"
    )


def is_valid_regon(value: str) -> bool:
    """Whether ``value`` is a 9- or 14-digit REGON with a correct check digit.

    Parameters
    ----------
    value : str
        Digits only.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_valid_regon("12345678512347"), is_valid_regon("12345678512348")
    (True, False)
    """
    return regon_problem(value) is None


def is_valid_nip(value: str) -> bool:
    """Whether ``value`` is a 10-digit NIP with a correct check digit.

    Parameters
    ----------
    value : str
        Digits only.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_valid_nip("5261040828")
    True
    """
    return nip_problem(value) is None


def is_valid_krs(value: str) -> bool:
    """Whether ``value`` has the form of a KRS number (10 digits after zero-padding).

    Parameters
    ----------
    value : str
        The number.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_valid_krs("6865"), is_valid_krs("12345678901")
    (True, False)
    """
    return krs_problem(value) is None
