"""int8 on CPUs without a VNNI-class instruction: weights quantized to 7 bits (NNCF's overflow fix) so that the
16-bit intermediate sums of AVX2's int8 products cannot saturate; and the model cache keeps the two apart.
The end-to-end check is test_runtimes.py's gate test: on an AVX2-only machine it failed (probability change
0.09-0.11 against 0.02 allowed) before the fix."""

import pytest

from detection.models import int8


@pytest.mark.parametrize(("flags", "expected"), [
    ("fpu sse4_2 avx avx2 fma", True),                       # AVX2 alone: saturating 16-bit sums
    ("avx2 avx512f avx512bw avx512_vnni avx512_bf16", False),  # AVX-512 VNNI: 32-bit accumulation
    ("avx2 avx_vnni", False),                                 # AVX-VNNI (Alder Lake and later)
    ("avx2 amx_int8 amx_tile", False),
    ("fp asimd evtstrm aes", False),                          # not x86: no such issue to fix
    ("", False),                                              # unknown: leave NNCF's default
])
def test_the_overflow_fix_is_for_x86_cpus_without_vnni(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    assert int8.needs_overflow_fix(int8.cpu_flags(cpuinfo)) is expected


def test_a_model_quantized_with_the_fix_is_cached_apart_and_nncf_is_told(monkeypatch):
    import nncf

    monkeypatch.setattr(int8, "needs_overflow_fix", lambda flags=None: True)
    assert int8.quantization_tag() == "+overflowfix"
    assert int8.nncf_parameters()["advanced_parameters"].overflow_fix == nncf.OverflowFix.ENABLE
    monkeypatch.setattr(int8, "needs_overflow_fix", lambda flags=None: False)
    assert (int8.quantization_tag(), int8.nncf_parameters()) == ("", {})


def test_a_missing_cpuinfo_reads_as_no_flags(tmp_path):
    assert int8.cpu_flags(tmp_path / "absent") == frozenset()
