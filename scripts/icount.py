#!/usr/bin/env python3
"""Instructions executed per unit of work, by guest symbol, from `scripts/vm.sh --icount`.

A run is the counts file the plugin wrote (tools/icount: "ADDRESS INSTRUCTIONS ENTRIES ..." per
translation block) and the guest's log from `profile.sh` with PROFILE_TOOL=icount, which has
the loads' counts ("icount-load: ... conns=N") and the symbols ("icount-ksym ADDRESS TYPE NAME
[MODULE]", with the kernel's _stext). Kernel symbols come from the kernel build's System.map,
moved by the guest's KASLR offset (its _stext against the map's).

    scripts/icount.py --map KDIR/System.map --field conns RUN [RUN ...]

where RUN is LABEL=COUNTS:LOG. Prints, per run, the instructions and block entries per unit
(per connection for --field conns) in the kernel, in the IPVS modules and in user space, then
the symbols with the most instructions per unit, side by side, with the difference of each run
from the first.

A run's counts include the guest's boot and set-up, which a per-unit figure spreads over the
units. RUN as LABEL=COUNTS:LOG,COUNTS2:LOG2 (the same load at two sizes, say 5,000 and 2,500
services) gives the slope instead: the difference of the two counts over the difference of
their units, what one more unit costs, fixed costs cancelled. The boot's calibration loops
(calibrate_delay and the like) run until the host's clock says stop, so they differ between
runs by millions of instructions: they are listed but left out of the kernel's total.
"""

import argparse
import bisect
import re
import sys
from collections import defaultdict

# Modules whose code is "the implementation" (C ip_vs and its schedulers, or rust_ipvs).
IPVS_MODULES = re.compile(r"^\[(ip_vs\w*|rust_ipvs)\]$")
# Boot-time loops that run for a time, not a count of work: left out of the kernel total.
BOOT_CALIBRATION = {"delay_read_timer", "calibrate_delay", "calibrate_delay_converge",
                    "pit_hpet_ptimer_calibrate_cpu", "calibrate_APIC_clock", "delay_tsc",
                    "delay_loop", "pit_calibrate_tsc", "native_calibrate_tsc"}
# Where x86-64 kernel addresses begin.
KERNEL_START = 0xFFFF800000000000


def read_map(path):
    """The text symbols of a System.map: {name: address} and sorted (address, name)."""
    symbols = []
    stext = None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3 or parts[1] not in "tTwW":
                continue
            addr = int(parts[0], 16)
            symbols.append((addr, parts[2]))
            if parts[2] == "_stext":
                stext = addr
    if stext is None:
        sys.exit(f"{path}: no _stext")
    return stext, symbols


def read_log(path, field):
    """Units of work, the guest's _stext, and its module symbols from a profile.sh log."""
    units = 0
    stext = None
    modules = []
    pattern = re.compile(rf"\b{re.escape(field)}=(\d+)")
    with open(path, errors="replace") as f:
        for line in f:
            # The guest's result stream prefixes its lines with "# ".
            line = line.strip().lstrip("#").strip()
            if line.startswith("icount-load:"):
                found = pattern.search(line)
                if found:
                    units += int(found.group(1))
            elif line.startswith("icount-ksym "):
                parts = line.split()
                if len(parts) >= 4 and parts[3] == "_stext":
                    stext = int(parts[1], 16)
                elif len(parts) >= 5:
                    modules.append((int(parts[1], 16), f"{parts[3]} {parts[4]}"))
    if not units:
        sys.exit(f"{path}: no icount-load line with {field}=N")
    if stext is None:
        sys.exit(f"{path}: no icount-ksym line for _stext")
    return units, stext, modules


def blocks(counts_path, symbols):
    """Each counted block: (address, instructions, entries, (translations, atomics,
    divisions, 16-byte atomics, and with the cache model TLB misses, jump-cache lookups,
    jump-cache misses and flushes), its symbol's (address, name) or None for user space and
    addresses below every symbol). Counts written before the plugin counted the later columns
    have none (0)."""
    addrs = [a for a, _ in symbols]
    with open(counts_path) as f:
        for line in f:
            parts = line.split()
            if not 3 <= len(parts) <= 11:
                continue
            addr, n, e = int(parts[0], 16), int(parts[1]), int(parts[2])
            extra = tuple(int(p) for p in parts[3:]) + (0,) * (11 - len(parts))
            yield addr, n, e, extra, symbol_of(addrs, symbols, addr)


def blocks_of(counts_path, symbols, text):
    """The blocks in symbols whose name contains text: [(name, offset, insns, entries)]."""
    return sorted((symbol[1], addr - symbol[0], n, e)
                  for addr, n, e, _, symbol in blocks(counts_path, symbols)
                  if symbol and text in symbol[1])


def symbol_of(addrs, symbols, addr):
    """The (address, name) of the symbol addr is in, or None for user space and addresses
    below every symbol; addrs are the symbols' addresses."""
    i = bisect.bisect_right(addrs, addr) - 1
    return symbols[i] if addr >= KERNEL_START and i >= 0 else None


def name_of(addr, symbol):
    """The name a block at addr in symbol is counted under."""
    if addr < KERNEL_START:
        return "[user space]"
    return "[kernel, unknown]" if symbol is None else symbol[1]


def callers_of(counts_path, symbols, text):
    """Calls to the functions whose name contains text: [(callee, caller, times)], most
    first, the caller by its symbol."""
    addrs = [a for a, _ in symbols]
    found = defaultdict(int)
    with open(counts_path + ".calls") as f:
        for line in f:
            caller, callee, times = line.split()
            caller, callee, times = int(caller, 16), int(callee, 16), int(times)
            symbol = symbol_of(addrs, symbols, callee)
            if symbol is None or symbol[0] != callee or text not in symbol[1]:
                continue
            found[(symbol[1], name_of(caller, symbol_of(addrs, symbols, caller)))] += times
    return sorted(((callee, caller, n) for (callee, caller), n in found.items()),
                  key=lambda t: -t[2])


def attribute(counts_path, symbols):
    """Instructions, block entries, calls (entries of the block at the symbol's address),
    translations, atomics, divisions and 16-byte atomics by symbol name; user space as one
    entry."""
    insns = defaultdict(int)
    entries = defaultdict(int)
    calls = defaultdict(int)
    translations = defaultdict(int)
    atomics = defaultdict(int)
    divisions = defaultdict(int)
    wide = defaultdict(int)
    # The cache model's counts: TLB misses, jump-cache lookups and misses, flushes.
    model = tuple(defaultdict(int) for _ in range(4))
    for addr, n, e, (t, a, d, w, *modelled), symbol in blocks(counts_path, symbols):
        name = name_of(addr, symbol)
        if symbol is not None and symbol[0] == addr:
            calls[name] += e
        insns[name] += n
        entries[name] += e
        translations[name] += t
        atomics[name] += a
        divisions[name] += d
        wide[name] += w
        for counts, v in zip(model, modelled):
            if v:
                counts[name] += v
    return (insns, entries, calls, translations, atomics, divisions, wide) + model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--map", required=True, help="the guest kernel's System.map")
    parser.add_argument("--field", default="conns", help="the unit in icount-load lines")
    parser.add_argument("--top", type=int, default=40, help="symbols listed")
    parser.add_argument("--blocks", metavar="TEXT",
                        help="also list the blocks of the symbols whose name contains TEXT,"
                        " as symbol+offset, to read against the disassembly")
    parser.add_argument("--callers", metavar="TEXT",
                        help="also list who calls the functions whose name contains TEXT, per"
                        " unit (from COUNTS.calls, written with vm.sh --icount-tlb)")
    parser.add_argument("runs", nargs="+", help="LABEL=COUNTS:LOG")
    args = parser.parse_args()

    map_stext, map_symbols = read_map(args.map)
    runs = []
    for spec in args.runs:
        label, _, paths = spec.partition("=")
        measured = []
        for pair in paths.split(","):
            counts_path, _, log_path = pair.partition(":")
            if not (label and counts_path and log_path):
                sys.exit(f"{spec}: expected LABEL=COUNTS:LOG[,COUNTS:LOG]")
            units, stext, modules = read_log(log_path, args.field)
            slide = stext - map_stext
            symbols = sorted([(a + slide, n) for a, n in map_symbols] + modules)
            measured.append((units, attribute(counts_path, symbols)))
            if args.callers:
                print(f"{label} ({units} units): callers of functions containing"
                      f" {args.callers!r}, per unit:")
                for callee, caller, times in callers_of(counts_path, symbols, args.callers):
                    print(f"  {times / units:10.2f}  {caller} -> {callee}")
            if args.blocks:
                print(f"{label} ({units} units): blocks of symbols containing {args.blocks!r},"
                      " per unit:")
                for name, offset, n, e in blocks_of(counts_path, symbols, args.blocks):
                    print(f"  {name}+{offset:#x}: {n / units:.1f} instructions,"
                          f" {e / units:.2f} entries")
        if len(measured) > 2:
            sys.exit(f"{spec}: one run, or two of different sizes")
        units, counts = measured[0]
        if len(measured) == 2:
            small_units, small = measured[1]
            if small_units == units:
                sys.exit(f"{spec}: the two runs have the same number of units")
            counts = tuple(
                {k: big.get(k, 0) - less.get(k, 0) for k in set(big) | set(less)}
                for big, less in zip(counts, small))
            units -= small_units
        runs.append((label, units) + tuple(counts))

    unit = args.field[:-1] if args.field.endswith("s") else args.field
    print(f"per {unit} (a slope where a run has two counts):")
    for label, units, insns, entries, _, translations, atomics, divisions, wide, *model in runs:
        def total(pred):
            return (sum(v for k, v in insns.items() if pred(k)) / units,
                    sum(v for k, v in entries.items() if pred(k)) / units)
        kernel = total(lambda k: k != "[user space]" and k not in BOOT_CALIBRATION)
        boot = total(lambda k: k in BOOT_CALIBRATION)
        module = total(lambda k: IPVS_MODULES.match(k.split(" ")[-1]) is not None)
        user = total(lambda k: k == "[user space]")
        print(f"  {label}: {units} units; instructions (block entries): kernel {kernel[0]:.0f}"
              f" ({kernel[1]:.0f}), IPVS module {module[0]:.0f} ({module[1]:.0f}),"
              f" user space {user[0]:.0f} ({user[1]:.0f}); boot calibration (left out)"
              f" {boot[0]:.0f}")
        # Translations are counted whole, not per unit: most blocks are translated once, and
        # a block translated again and again (a write to its page, a full code buffer) costs
        # TCG far more than running it.
        def translated(pred):
            return sum(v for k, v in translations.items() if pred(k))
        print(f"    translations (whole run): kernel"
              f" {translated(lambda k: k != '[user space]'):.0f}, IPVS module"
              f" {translated(lambda k: IPVS_MODULES.match(k.split(' ')[-1]) is not None):.0f},"
              f" user space {translated(lambda k: k == '[user space]'):.0f}")
        # Locked read-modify-writes and divisions: each a helper call under TCG (and a
        # locked one a cache line owned exclusively on hardware); a 16-byte one stops every
        # other vCPU in a QEMU built without 128-bit host atomics (not this host's).
        def helpers(pred):
            return tuple(sum(v for k, v in counts.items() if pred(k)) / units
                         for counts in (atomics, wide, divisions))
        for area, pred in (("kernel", lambda k: k != "[user space]"),
                           ("IPVS module", lambda k: IPVS_MODULES.match(k.split(" ")[-1])
                            is not None)):
            a, w, d = helpers(pred)
            print(f"    {area}: {a:.1f} atomics ({w:.2f} of 16 bytes), {d:.1f} divisions")
        # The modelled soft TLB and jump cache (vm.sh --icount-tlb): the slow paths of TCG.
        if any(model):
            for area, pred in (("kernel", lambda k: k != "[user space]"),
                               ("IPVS module", lambda k: IPVS_MODULES.match(k.split(" ")[-1])
                                is not None),
                               ("user space", lambda k: k == "[user space]")):
                m, l, jm, f = (sum(v for k, v in counts.items() if pred(k)) / units
                               for counts in model)
                print(f"    {area}: {m:.1f} TLB misses, {l:.1f} jump-cache lookups"
                      f" ({jm:.1f} missed), {f:.2f} flushes")

    names = set()
    for _, units, insns, *_ in runs:
        names.update(insns)
    def per(run, name):
        return run[2].get(name, 0) / run[1], run[3].get(name, 0) / run[1]
    ranked = sorted(names, key=lambda n: -max(per(r, n)[0] for r in runs))
    header = "".join(f"{label:>24}" for label, *_ in runs)
    diffs = "".join(f"{label + '-' + runs[0][0]:>14}" for label, *_ in runs[1:])
    print(f"\ninstructions (block entries) [calls] per unit, top {args.top}:")
    print(f"{header}{diffs}  symbol")
    for name in ranked[: args.top]:
        cells = "".join(f"{per(r, name)[0]:10.0f} ({per(r, name)[1]:5.0f}) [{r[4].get(name, 0) / r[1]:3.0f}]"
                        for r in runs)
        delta = "".join(f"{per(r, name)[0] - per(runs[0], name)[0]:14.0f}" for r in runs[1:])
        print(f"{cells}{delta}  {name}")

    # The symbols that run the most atomics and divisions, where any run counted them.
    def helpers_of(run, name):
        return (run[6].get(name, 0) / run[1], run[7].get(name, 0) / run[1],
                run[8].get(name, 0) / run[1])
    busy = [n for n in names if any(any(helpers_of(r, n)) for r in runs)]
    if busy:
        busy.sort(key=lambda n: -max(sum(helpers_of(r, n)) for r in runs))
        print(f"\natomics / divisions / 16-byte atomics per unit, top {min(args.top, len(busy))}:")
        print(f"{header}  symbol")
        for name in busy[: args.top]:
            cells = "".join(f"{helpers_of(r, name)[0]:10.2f} /{helpers_of(r, name)[1]:6.2f}"
                            f" /{helpers_of(r, name)[2]:6.2f}" for r in runs)
            print(f"{cells}  {name}")

    # The symbols whose loads and stores miss the modelled TLB the most.
    if any(r[9] for r in runs):
        def misses_of(run, name):
            return run[9].get(name, 0) / run[1], run[11].get(name, 0) / run[1]
        ranked = sorted(names, key=lambda n: -max(misses_of(r, n)[0] for r in runs))
        print(f"\nTLB misses (jump-cache misses) per unit, top {args.top}:")
        print(f"{header}  symbol")
        for name in ranked[: args.top]:
            cells = "".join(f"{misses_of(r, name)[0]:16.1f} ({misses_of(r, name)[1]:5.1f})"
                            for r in runs)
            print(f"{cells}  {name}")


if __name__ == "__main__":
    main()
