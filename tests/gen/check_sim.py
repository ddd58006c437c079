#!/usr/bin/env python3
"""Independent consistency check of ntheap_sim's output (not of dumpsleuth's walker).

Reads each DIR/<variant>.dmp with its own minidump parser and checks, with offsets typed in again
from ../shared/reference/nt-heap.md, that the bytes say what <variant>.truth.json says: PEB heap
arrays, heap/segment signatures, encoded entry headers (checksum, Size/PreviousSize chains,
UnusedBytes), UCR lists, the free list, VA blocks, LFH userblocks and the `!heap -s` row computed
from the counters in memory. Corrupted variants: the clean parts are checked and the corruption
must be present. Usage: check_sim.py DIR [variant ...]. Exit 0 = all good."""
import json
import os
import struct
import sys

PAGE = 0x1000


class Dump:
    def __init__(self, path):
        self.b = open(path, "rb").read()
        sig, ver, n, rva = struct.unpack_from("<IIII", self.b, 0)
        assert sig == 0x504D444D, "not a minidump"
        self.streams = {}
        for i in range(n):
            t, size, r = struct.unpack_from("<III", self.b, rva + 12 * i)
            self.streams[t] = (r, size)
        r, _ = self.streams[9]
        cnt, base = struct.unpack_from("<QQ", self.b, r)
        self.ranges = []
        off = base
        for i in range(cnt):
            a, s = struct.unpack_from("<QQ", self.b, r + 16 + 16 * i)
            self.ranges.append((a, s, off))
            off += s
        r, _ = self.streams[16]
        hs, es, cnt = struct.unpack_from("<IIQ", self.b, r)
        self.info = []
        for i in range(cnt):
            e = struct.unpack_from("<QQIIQIII", self.b, r + hs + es * i)
            self.info.append(e)

    def read(self, a, n):
        for (s, sz, off) in self.ranges:
            if s <= a and a + n <= s + sz:
                return self.b[off + a - s : off + a - s + n]
        return None

    def u8(self, a):
        return self.read(a, 1)[0]

    def u16(self, a):
        return struct.unpack("<H", self.read(a, 2))[0]

    def u32(self, a):
        return struct.unpack("<I", self.read(a, 4))[0]

    def ptr(self, a, ps):
        return struct.unpack("<I" if ps == 4 else "<Q", self.read(a, ps))[0]

    def state(self, a):
        for e in self.info:
            if e[0] <= a < e[0] + e[4]:
                return e[5]
        return 0x10000


# (bits, layout) -> offsets (nt-heap.md §2; tags = NextAvailableTagIndex, MaximumTagIndex, TagEntries,
# PseudoTagEntries from the volatility vtypes and radare2 `dt ntdll!_HEAP`, not in nt-heap.md)
def layout(bits, lay):
    if bits == 32:
        L = dict(sig=8, seglist=0x10, first=0x24, last=0x28, nucp=0x2C, nucr=0x30, ucrseg=0x38,
                 flags=0x40, encmask=0x4C, key=0x50, ucr_seg=8, ucr_addr=0x10, ucr_size=0x14,
                 va_commit=0x10, va_reserve=0x14, va_busy=0x18, va_user=0x20)
        if lay == "w7":
            L.update(vmt=0x60, signature=0x64, totfree=0x78, ucrlist=0x90, va=0xA0, segl=0xA8,
                     freelists=0xC4, feh=0xD4, fetype=0xDA, counters=0xDC,
                     tags=(0x88, 0x8A, 0x8C, 0xC0))
        else:
            L.update(vmt=0x5C, signature=0x60, totfree=0x74, ucrlist=0x8C, va=0x9C, segl=0xA4,
                     freelists=0xC0, tags=(0x84, 0x86, 0x88, 0xBC))
            L.update({"w8": dict(feh=0xD0, fetype=0xD6, counters=0x1E0),
                      "10b": dict(feh=0xD4, fetype=0xDA, counters=0x1E4),
                      "10c": dict(feh=0xE4, fetype=0xEA, counters=0x1F4)}[lay])
    else:
        L = dict(sig=0x10, seglist=0x18, first=0x40, last=0x48, nucp=0x50, nucr=0x54, ucrseg=0x60,
                 flags=0x70, encmask=0x7C, key=0x88, ucr_seg=0x10, ucr_addr=0x20, ucr_size=0x28,
                 va_commit=0x20, va_reserve=0x28, va_busy=0x30, va_user=0x40)
        if lay == "w7":
            L.update(vmt=0x9C, signature=0xA0, totfree=0xC8, ucrlist=0xF8, va=0x118, segl=0x128,
                     freelists=0x158, feh=0x178, fetype=0x182, counters=0x188,
                     tags=(0xE8, 0xEA, 0xF0, 0x150))
        else:
            L.update(vmt=0x94, signature=0x98, totfree=0xC0, ucrlist=0xF0, va=0x110, segl=0x120,
                     freelists=0x150, tags=(0xE0, 0xE2, 0xE8, 0x148))
            L.update({"w8": dict(feh=0x170, fetype=0x17A, counters=0x210),
                      "10b": dict(feh=0x178, fetype=0x182, counters=0x218),
                      "10c": dict(feh=0x198, fetype=0x1A2, counters=0x238)}[lay])
    return L


errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


def H(v):
    return int(v, 16)


def walk_list(d, head, ps, limit=100000):
    out, cur, seen = [], d.ptr(head, ps), set()
    while cur != head and len(out) < limit:
        if cur in seen or d.read(cur, ps) is None:
            return out, False
        seen.add(cur)
        out.append(cur)
        cur = d.ptr(cur, ps)
    return out, cur == head


def decode(d, h, key, entry, bits):
    raw = d.read(entry + (0 if bits == 32 else 8), 8)
    if raw is None:
        return None
    b = bytes(x ^ y for x, y in zip(raw, key))
    return dict(size=b[0] | b[1] << 8, flags=b[2], csum=b[3], ok=b[3] == b[0] ^ b[1] ^ b[2],
                prev=b[4] | b[5] << 8, unused=b[7])


def check_heap(d, t, h, name):
    bits, ps = h["bits"], h["bits"] // 8
    A = H(h["address"])
    tag = "%s heap %s" % (name, h["address"])
    if h["kind"] == "not_nt":
        check(d.u32(A + (8 if bits == 32 else 0x10)) not in (0xFFEEFFEE, 0xDDEEDDEE), tag + ": signature")
        return
    if h["kind"] == "segment":
        check(d.u32(A + 0x10) == 0xDDEEDDEE, tag + ": segment heap signature")
        check(struct.unpack("<Q", d.read(A + 0x80, 8))[0] == h["total_reserved_pages"], tag + ": MemStats")
        return
    L = layout(bits, h["layout"])
    gran = h["granularity"]
    check(gran == (8 if bits == 32 else 16), tag + ": granularity")
    check(d.u32(A + L["sig"]) == 0xFFEEFFEE and d.u32(A + L["signature"]) == 0xEEFFEEFF, tag + ": signatures")
    check(d.u32(A + L["flags"]) == h["flags"], tag + ": flags")
    check(d.u32(A + L["encmask"]) == 0x100000, tag + ": EncodeFlagMask")
    key = d.read(A + L["key"], 8)
    check(int.from_bytes(key, "little") == H(h["encoding_key"]), tag + ": key")
    check(key[3] == key[0] ^ key[1] ^ key[2] and key[6] == 0 and key[7] == 0, tag + ": key shape")
    check(d.u32(A + L["vmt"]) == h["virtual_memory_threshold_granules"], tag + ": VMT")
    check(d.ptr(A + L["totfree"], ps) == h["total_free_size_granules"], tag + ": TotalFreeSize")
    corrupt = {i["kind"] for i in t["issues"] if H(i["heap"]) == A}
    tn, tm, te, tp = L["tags"]
    check((d.u16(A + tn), d.u16(A + tm), d.ptr(A + te, ps), d.ptr(A + tp, ps)) ==
          (h["next_available_tag_index"], h["maximum_tag_index"], H(h["tag_entries"]),
           H(h["pseudo_tag_entries"])), tag + ": tag fields")
    busy_users = {H(b["user"]) for b in h["blocks"] if b["state"] == "busy"}
    check(all(x == 0 or x in busy_users for x in (H(h["tag_entries"]), H(h["pseudo_tag_entries"]))),
          tag + ": tag pointers are busy blocks")
    check(h["next_available_tag_index"] <= h["maximum_tag_index"], tag + ": tag indices")

    # counters -> !heap -s row
    c = A + L["counters"]
    res, com, large, va = (d.ptr(c + i * ps, ps) for i in range(4))
    ucrs, coll = d.u32(c + 4 * ps + 4), d.u32(c + 4 * ps + 20)
    s = h["heap_s"]
    check(s["reserv_k"] == res // 1024 and s["commit_k"] == com // 1024 and
          s["virt_k"] == (res - large) // 1024 and s["ucr"] == ucrs and s["lock_cont"] == coll and
          s["free_k"] == d.ptr(A + L["totfree"], ps) * gran // 1024, tag + ": heap -s from counters")
    lfhres = h["lfh"]["region_reserve"] if "lfh" in h else 0
    lfhcom = h["lfh"]["region_committed"] if "lfh" in h else 0
    check(res == h["walked"]["reserved"] + lfhres and com == h["walked"]["committed"] + lfhcom and
          large == lfhres and ucrs == h["walked"]["ucr_count"], tag + ": counters vs segments + LFH region")
    fe = d.u8(A + L["fetype"])
    check((fe == 2) == (s["fast_heap"] == "LFH"), tag + ": fast heap")

    # segments via SegmentList
    ents, closed = walk_list(d, A + L["segl"], ps)
    segaddrs = [e - L["seglist"] for e in ents]
    tsegs = [sg for sg in h["segments"] if sg.get("reliable", True)]
    if "not_in_dump" in corrupt and not closed:
        check(segaddrs == [H(sg["address"]) for sg in tsegs], tag + ": reachable segments")
    else:
        check(closed and segaddrs == [H(sg["address"]) for sg in h["segments"]], tag + ": SegmentList")
    blocks = {}
    for b in h["blocks"]:
        blocks.setdefault(b["segment"], []).append(b)
    missing_page = [H(i["address"]) for i in t["issues"] if i["kind"] == "not_in_dump" and H(i["heap"]) == A]
    nucr_total = 0
    for sg in tsegs:
        S = H(sg["address"])
        check(d.u32(S + L["sig"]) == 0xFFEEFFEE, tag + ": segment signature %x" % S)
        first, last = d.ptr(S + L["first"], ps), d.ptr(S + L["last"], ps)
        check(first == H(sg["first_entry"]) and last == H(sg["last_valid_entry"]), tag + ": seg bounds %x" % S)
        check(d.u32(S + L["nucp"]) == sg["uncommitted_pages"] and d.u32(S + L["nucr"]) == sg["uncommitted_ranges"], tag + ": seg UCR counts")
        check(sg["committed"] == last - S - sg["uncommitted_pages"] * PAGE, tag + ": committed formula")
        hdr = decode(d, h, key, S, bits)
        check(hdr["ok"] and hdr["size"] * gran == sg["header_entry_size"] and hdr["unused"] == 1, tag + ": segment header entry %x" % S)
        ucr_ents, ok = walk_list(d, S + L["ucrseg"], ps)
        ucrs_mem = [(e - L["ucr_seg"], d.ptr(e - L["ucr_seg"] + L["ucr_addr"], ps), d.ptr(e - L["ucr_seg"] + L["ucr_size"], ps)) for e in ucr_ents]
        check(ok and ucrs_mem == [(H(u["descriptor"]), H(u["address"]), u["size"]) for u in sg["ucrs"]], tag + ": UCRs of %x" % S)
        nucr_total += len(ucrs_mem)
        for (_, ua, us) in ucrs_mem:
            check(all(d.state(a) == 0x2000 for a in range(ua, ua + us, PAGE)), tag + ": UCR not MEM_RESERVE")
        # walk entries
        ucr_at = {ua: us for (_, ua, us) in ucrs_mem}
        cur, prev_size, walked = first, sg["header_entry_size"] // gran, []
        while cur < last:
            if cur in ucr_at:
                cur += ucr_at[cur]
                prev_size = None
                continue
            e = decode(d, h, key, cur, bits)
            if e is None:
                break
            if not e["ok"] or e["size"] == 0 or (prev_size is not None and e["prev"] != prev_size) \
                    or (prev_size is None and e["prev"] != 0):
                walked.append((cur, "bad"))
                break
            st = "free" if not e["flags"] & 1 else ("internal" if (e["flags"] & 8 or
                 (d.read(cur + gran + (0xC if bits == 32 else 0x18), 4) or b"\0" * 4) == b"\xc0\xd0\xe0\xf0" or
                 (d.read(cur + gran + (0xC if bits == 32 else 0x14), 4) or b"\0" * 4) == b"\xc0\xd0\xe0\xf0") else "busy")
            us = e["size"] * gran - e["unused"] if st != "free" else 0
            walked.append((cur, e["size"] * gran, st, us, e["flags"]))
            prev_size = e["size"]
            cur += e["size"] * gran
        exp = [(H(b["address"]), b["size"], b["state"], b["user_size"], b["flags"]) for b in blocks.get(sg["index"], [])]
        good = [b for b in blocks.get(sg["index"], []) if b.get("reliable", True)]
        if len(good) == len(exp):
            # a bad-signature LFH container still walks as internal only with the W8+ flag
            if "bad_signature" in corrupt:
                walked = [w if len(w) == 2 else (w[0], w[1], "internal" if w[4] & 8 else w[2], w[3], w[4]) for w in walked]
            check(walked == exp, tag + ": entries of segment %x differ (first difference at %s)" % (
                S, next((hex(a[0]) for a, b in zip(walked, exp) if a != b), "length")))
        else:
            n = len(good)
            check(walked[:n] == exp[:n], tag + ": reliable entries of segment %x" % S)
            check(len(walked) <= len(exp), tag + ": walk went past the corruption")
        for b in exp:
            if b[2] == "free":
                check(b[4] & 1 == 0, tag + ": free flag")
    if closed:
        check(nucr_total == sum(sg["uncommitted_ranges"] for sg in h["segments"]), tag + ": UCR total")
        ucrl, ok = walk_list(d, A + L["ucrlist"], ps)
        check(ok and ucrl == [H(u["descriptor"]) for sg in h["segments"] for u in sg["ucrs"]], tag + ": heap UCRList")

    # free list
    fl, ok = walk_list(d, A + L["freelists"], ps)
    fl = [e - gran for e in fl]
    if h.get("free_list_reliable", True):
        check(ok and fl == [H(x) for x in h["free_list"]], tag + ": free list")
        sizes = [decode(d, h, key, e, bits)["size"] for e in fl]
        check(sizes == sorted(sizes), tag + ": free list order")
        check(sum(sizes) == h["total_free_size_granules"], tag + ": TotalFreeSize = sum of free entries")
        check(len(fl) == s["list_length"], tag + ": list length")
    elif "list_cycle" in corrupt:
        check(not ok, tag + ": free-list cycle present")

    # VA blocks
    vl, ok = walk_list(d, A + L["va"], ps)
    tv = [H(v["address"]) for v in h["virtual_blocks"]]
    if "list_cycle" in corrupt and h["free_list"] and h.get("free_list_reliable", True):
        check(not ok and vl == tv, tag + ": VA cycle present after all entries")
    else:
        check(ok and vl == tv, tag + ": VA list")
    check(len(tv) == s["virt_blocks"], tag + ": virt blocks")
    for v in h["virtual_blocks"]:
        a = H(v["address"])
        bb = decode(d, h, key, a + L["va_busy"], bits)
        cm, rs = d.ptr(a + L["va_commit"], ps), d.ptr(a + L["va_reserve"], ps)
        check(bb["ok"] and bb["flags"] == v["flags"] == 0x0B and bb["size"] == v["unused"], tag + ": VA busy block %x" % a)
        check(cm == v["commit"] and rs == v["reserve"] and cm - bb["size"] == v["user_size"] and
              H(v["user"]) == a + L["va_user"], tag + ": VA sizes %x" % a)
        check(d.state(a + cm - 1) == 0x1000 and (rs == cm or d.state(a + cm) == 0x2000), tag + ": VA states %x" % a)
    check(va == sum(v["commit"] for v in h["virtual_blocks"]), tag + ": TotalSizeInVirtualBlocks")

    # LFH
    if "lfh" in h:
        check(fe == 2 and d.ptr(A + L["feh"], ps) == H(h["lfh"]["address"]), tag + ": FrontEndHeap")
        w7 = h["layout"] == "w7"
        lfh = H(h["lfh"]["address"])
        lkey = H(t["lfh_key"])
        for sg in h["lfh"]["subsegments"]:
            ub, ss = H(sg["userblocks"]), H(sg["address"])
            sigoff = (0xC if bits == 32 else 0x18) if w7 else (0xC if bits == 32 else 0x14)
            if not sg.get("reliable", True):
                check(d.u32(ub + sigoff) != 0xF0E0D0C0 or "not_in_dump" in corrupt, tag + ": bad signature present")
                continue
            check(d.u32(ub + sigoff) == 0xF0E0D0C0 and d.ptr(ub, ps) == ss, tag + ": userblocks %x" % ub)
            check(d.ptr(ss + ps, ps) == ub, tag + ": subsegment back-pointer %x" % ss)
            bs_off, bc_off = ((0x10, 0x14) if bits == 32 else (0x18, 0x1C)) if w7 else ((0x14, 0x18) if bits == 32 else (0x24, 0x28))
            check(d.u16(ss + bs_off) * gran == sg["block_size"] and d.u16(ss + bc_off) == sg["block_count"], tag + ": subsegment sizes %x" % ss)
            agg = (8 if bits == 32 else 0x10) if w7 else (0x10 if bits == 32 else 0x20)
            check(d.u16(ss + agg) == sg["free"], tag + ": Depth")
            if w7:
                fao = 0x10 if bits == 32 else 0x20
            else:
                enc = d.u32(ub + (0x10 if bits == 32 else 0x18))
                plain = enc ^ (ub & 0xFFFFFFFF) ^ (lfh & 0xFFFFFFFF) ^ lkey
                fao, stride = plain & 0xFFFF, plain >> 16
                check(stride == sg["block_size"], tag + ": EncodedOffsets stride")
                bm = ub + (0x1C if bits == 32 else 0x30)
                check(d.u32(ub + (0x14 if bits == 32 else 0x20)) == sg["block_count"], tag + ": bitmap size")
            check(fao == sg["first_offset"], tag + ": first offset")
            for i, lb in enumerate(sg["blocks"]):
                a = ub + fao + i * sg["block_size"]
                check(H(lb["address"]) == a and H(lb["user"]) == a + gran, tag + ": LFH block address")
                u = d.u8(a + (7 if bits == 32 else 0xF))
                if w7:
                    busy = u != 0x80
                else:
                    busy = bool(d.u32(bm + (i // 32) * 4) >> (i % 32) & 1)
                    check((u != 0x80) == busy, tag + ": UnusedBytes vs bitmap")
                check(busy == lb["busy"], tag + ": LFH busy %x" % a)
                if busy:
                    check(u & 0x80 and sg["block_size"] - (u & 0x3F) == lb["user_size"], tag + ": LFH user size %x" % a)

    # totals and stat
    tot = h["totals"]
    st = {}
    for b in h["blocks"]:
        if b["state"] == "busy":
            st[b["user_size"]] = st.get(b["user_size"], 0) + 1
    for v in h["virtual_blocks"]:
        st[v["user_size"]] = st.get(v["user_size"], 0) + 1
    for sg in h.get("lfh", {}).get("subsegments", []):
        for lb in sg["blocks"]:
            if lb["busy"]:
                st[lb["user_size"]] = st.get(lb["user_size"], 0) + 1
    check({r["user_size"]: r["count"] for r in h["stat"]} == st, tag + ": stat")
    check(sum(st.values()) == tot["busy_blocks"], tag + ": busy total")


def check_variant(d, t, name):
    ps64 = t["os"]["arch"] == "x64"
    for th in t["threads"]:
        teb = H(th["teb"])
        if ps64:
            peb = d.ptr(teb + 0x60, 8)
        else:
            peb = d.ptr(teb + 0x30, 4)
        check(peb == H(t["peb"]), name + ": TEB->PEB")
        if th["teb32"]:
            t32 = H(th["teb32"])
            check(t32 == teb + 0x2000 and d.u32(t32 + 0x18) == t32, name + ": TEB32")
            check(d.u32(t32 + 0x30) == H(t["peb32"]), name + ": TEB32->PEB32")
    for pebname, peb, bits in (("peb", H(t["peb"]), 64 if ps64 else 32),
                               ("peb32", H(t["peb32"]) if t["peb32"] else None, 32)):
        if peb is None:
            continue
        ps = bits // 8
        n = d.u32(peb + (0x88 if ps == 4 else 0xE8))
        arr = d.ptr(peb + (0x90 if ps == 4 else 0xF0), ps)
        heaps = [d.ptr(arr + i * ps, ps) for i in range(n)]
        exp = [H(h["address"]) for h in t["heaps"] if h["peb"] == pebname]
        check(heaps == exp, name + ": %s heaps %s != %s" % (pebname, heaps, exp))
        check(d.ptr(peb + (0x18 if ps == 4 else 0x30), ps) == exp[0], name + ": ProcessHeap")
        check(d.u16(peb + (0xAC if ps == 4 else 0x120)) == t["os"]["build"], name + ": OSBuildNumber")
    for u in t["uncaptured"]:
        a = H(u["address"])
        check(d.read(a, 1) is None and d.state(a) == 0x1000, name + ": uncaptured %x" % a)
    for i in t["issues"]:
        if i["kind"] == "not_in_dump":
            a = H(i["address"])
            check(d.read(a, 1) is None, name + ": not_in_dump address %x is readable" % a)
    for h in t["heaps"]:
        check_heap(d, t, h, name)


def main():
    dirn = sys.argv[1]
    names = sys.argv[2:] or sorted(f[:-11] for f in os.listdir(dirn) if f.endswith(".truth.json"))
    for n in names:
        t = json.load(open(os.path.join(dirn, n + ".truth.json")))
        d = Dump(os.path.join(dirn, n + ".dmp"))
        before = len(errors)
        try:
            check_variant(d, t, n)
        except Exception as e:  # a read of memory that is absent, etc.
            errors.append("%s: exception %r" % (n, e))
        print("%s %s" % ("ok  " if len(errors) == before else "FAIL", n))
    for e in errors[:50]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
