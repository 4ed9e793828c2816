#!/usr/bin/env python3
"""Draws an aio trace (Chrome trace-event JSON, written by aio::Tracer) as an SVG timeline.

One lane per task: its steps as solid bars (the task runs on the loop's thread), the time it
waits between steps as a thin bar labelled with what it awaits ("sleep", "Task 'x'",
"gather"), and a mark where it ended (finished, cancelled, failed). Several loops in one
trace are drawn one under the other, on the same time axis. Standard library only.

    docs/tools/trace_svg.py run.json -o run.svg --title "Three fetches" [--thread] [--loop]

--thread adds a lane on top with every step of every task, coloured by task: the one thread,
busy or idle. --loop adds the event loop's own lane (timers, plain callbacks).
Timestamps are the loop's clock (virtual time for a VirtualTimeLoop): see aio/trace.hpp.
"""
import argparse
import json
import math
import sys
from xml.sax.saxutils import escape

PALETTE = ["#4477aa", "#ee7733", "#228833", "#aa3377", "#66ccee", "#ccbb44", "#bb5566", "#009988"]
OUTCOME_COLOURS = {"finished": "#228833", "cancelled": "#cc3311", "failed": "#ee7733"}
LEFT = 170      # label column
RIGHT = 80      # room for an outcome label at the end
LANE = 26       # lane height
BAR = 14        # step bar height
WAIT = 4        # wait bar height
MIN_STEP = 2.0  # px: a step of a virtual-time run lasts no time at all


def nice_step(span, target=8):
    """A tick step of 1, 2 or 5 times a power of ten giving about `target` ticks."""
    raw = span / target if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def time_unit(span_us):
    if span_us >= 1e6:
        return 1e6, "s"
    if span_us >= 2e3:
        return 1e3, "ms"
    return 1.0, "µs"


def format_tick(value, scale):
    number = value / scale
    return f"{number:.0f}" if abs(number - round(number)) < 1e-9 else f"{number:g}"


def load(path):
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    events = document["traceEvents"] if isinstance(document, dict) else document
    return events


class Lane:
    def __init__(self, pid, tid, name, sort):
        self.pid, self.tid, self.name, self.sort = pid, tid, name, sort
        self.steps = []    # (ts, dur, awaits)
        self.waits = []    # (ts, dur, what)
        self.calls = []    # (ts, dur, name)
        self.start = None
        self.end = None    # (ts, outcome, error)


def build_lanes(events):
    names, sorts, processes = {}, {}, {}
    for event in events:
        if event.get("ph") != "M":
            continue
        key = (event.get("pid"), event.get("tid"))
        if event["name"] == "thread_name":
            names[key] = event["args"]["name"]
        elif event["name"] == "thread_sort_index":
            sorts[key] = event["args"]["sort_index"]
        elif event["name"] == "process_name":
            processes[event.get("pid")] = event["args"]["name"]
    lanes = {}

    def lane(pid, tid):
        key = (pid, tid)
        if key not in lanes:
            lanes[key] = Lane(pid, tid, names.get(key, f"tid {tid}"), sorts.get(key, tid))
        return lanes[key]

    for event in events:
        phase, category = event.get("ph"), event.get("cat", "")
        if phase == "M":
            continue
        ts = float(event.get("ts", 0))
        if phase == "X":
            dur = float(event.get("dur", 0))
            args = event.get("args", {})
            target = lane(event["pid"], event["tid"])
            if category == "step":
                target.steps.append((ts, dur, args.get("awaits", "")))
            elif category == "wait":
                target.waits.append((ts, dur, event.get("name", "")))
            else:
                target.calls.append((ts, dur, event.get("name", "")))
        elif category == "task" and phase in ("b", "e"):
            target = lane(event["pid"], event["tid"])
            if phase == "b":
                target.start = ts
            else:
                args = event.get("args", {})
                target.end = (ts, args.get("outcome", "finished"), args.get("error", ""))
    return lanes, processes


def render(events, title, show_thread, show_loop, width):
    lanes, processes = build_lanes(events)
    loop_lanes = {key for key, lane in lanes.items() if lane.name == "event loop"}
    shown = [lane for key, lane in lanes.items()
             if (show_loop or key not in loop_lanes) and (lane.steps or lane.waits or lane.calls or lane.end)]
    if not shown:
        raise SystemExit("trace_svg: the trace has no task or callback to draw")
    times = []
    for lane in shown:
        for ts, dur, _ in lane.steps + lane.waits + lane.calls:
            times += [ts, ts + dur]
        if lane.start is not None:
            times.append(lane.start)
        if lane.end:
            times.append(lane.end[0])
    t0, t1 = min(times), max(times)
    span = max(t1 - t0, 1.0)
    plot = width - LEFT - RIGHT

    def x(ts):
        return LEFT + (ts - t0) / span * plot

    pids = sorted({lane.pid for lane in shown})
    colour_of = {}
    for index, lane in enumerate(sorted(shown, key=lambda one: (one.pid, one.sort))):
        colour_of[(lane.pid, lane.tid)] = PALETTE[index % len(PALETTE)]

    out = []
    y = 40 if title else 16
    if title:
        out.append(f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" class="title">{escape(title)}</text>')
    for pid in pids:
        group = sorted((lane for lane in shown if lane.pid == pid), key=lambda one: one.sort)
        if len(pids) > 1:
            out.append(f'<text x="8" y="{y + 14}" class="process">{escape(processes.get(pid, f"loop {pid}"))}</text>')
            y += LANE
        if show_thread:
            out.append(f'<text x="{LEFT - 8}" y="{y + LANE / 2 + 4:.1f}" text-anchor="end" class="lane thread">'
                       f'the thread</text>')
            out.append(f'<rect x="{LEFT}" y="{y + (LANE - BAR) / 2:.1f}" width="{plot}" height="{BAR}" class="idle"/>')
            for lane in group:
                for ts, dur, _ in lane.steps:
                    w = max((dur / span) * plot, MIN_STEP)
                    out.append(f'<rect x="{x(ts):.2f}" y="{y + (LANE - BAR) / 2:.1f}" width="{w:.2f}" '
                               f'height="{BAR}" fill="{colour_of[(lane.pid, lane.tid)]}"/>')
            y += LANE + 6
        for lane in group:
            colour = colour_of[(lane.pid, lane.tid)]
            mid = y + LANE / 2
            out.append(f'<line x1="{LEFT}" y1="{mid:.1f}" x2="{LEFT + plot}" y2="{mid:.1f}" class="guide"/>')
            out.append(f'<text x="{LEFT - 8}" y="{mid + 4:.1f}" text-anchor="end" class="lane">{escape(lane.name)}</text>')
            for ts, dur, what in lane.waits:
                w = (dur / span) * plot
                out.append(f'<rect x="{x(ts):.2f}" y="{mid - WAIT / 2:.1f}" width="{w:.2f}" height="{WAIT}" '
                           f'fill="{colour}" class="wait"><title>waiting for {escape(what)}</title></rect>')
                label = "await " + what if not what.startswith("<") and what != "yield" else what
                if w > 7 * len(label) + 10 and what != "yield":
                    out.append(f'<text x="{x(ts) + w / 2:.1f}" y="{mid - 5:.1f}" text-anchor="middle" '
                               f'class="waitlabel">{escape(label)}</text>')
            for ts, dur, awaits in lane.steps:
                w = max((dur / span) * plot, MIN_STEP)
                out.append(f'<rect x="{x(ts):.2f}" y="{mid - BAR / 2:.1f}" width="{w:.2f}" height="{BAR}" '
                           f'fill="{colour}"><title>step, then {escape(awaits)}</title></rect>')
                scale, unit = time_unit(dur)
                label = f"{dur / scale:.1f} {unit}"
                if w > 7 * len(label) + 6:
                    out.append(f'<text x="{x(ts) + w / 2:.1f}" y="{mid + 4:.1f}" text-anchor="middle" '
                               f'class="steplabel">{escape(label)}</text>')
            for ts, dur, name in lane.calls:
                w = max((dur / span) * plot, MIN_STEP)
                out.append(f'<rect x="{x(ts):.2f}" y="{mid - BAR / 4:.1f}" width="{w:.2f}" height="{BAR / 2}" '
                           f'class="call"><title>{escape(name)}</title></rect>')
            if lane.start is not None:
                out.append(f'<line x1="{x(lane.start):.2f}" y1="{mid - BAR / 2 - 2:.1f}" x2="{x(lane.start):.2f}" '
                           f'y2="{mid + BAR / 2 + 2:.1f}" class="start"/>')
            if lane.end:
                ts, outcome, error = lane.end
                ex = x(ts)
                mark_colour = OUTCOME_COLOURS.get(outcome, "#333")
                tip = outcome + (": " + error if error else "")
                if outcome == "cancelled":
                    out.append(f'<path d="M{ex - 4:.2f},{mid - 4:.1f} l8,8 m0,-8 l-8,8" stroke="{mark_colour}" '
                               f'stroke-width="2.5"><title>{escape(tip)}</title></path>')
                else:
                    out.append(f'<circle cx="{ex:.2f}" cy="{mid:.1f}" r="4" fill="{mark_colour}">'
                               f'<title>{escape(tip)}</title></circle>')
                if outcome != "finished":
                    out.append(f'<text x="{ex + 7:.2f}" y="{mid + 4:.1f}" fill="{mark_colour}" class="outcome">'
                               f'{escape(outcome)}</text>')
            y += LANE
        y += 8

    # The time axis.
    axis_y = y + 4
    scale, unit = time_unit(span)
    step = nice_step(span)
    out.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{LEFT + plot}" y2="{axis_y}" class="axis"/>')
    tick = math.ceil(t0 / step) * step
    while tick <= t1 + step * 1e-6:
        tx = x(tick)
        out.append(f'<line x1="{tx:.2f}" y1="{axis_y}" x2="{tx:.2f}" y2="{axis_y + 5}" class="axis"/>')
        out.append(f'<text x="{tx:.2f}" y="{axis_y + 18}" text-anchor="middle" class="tick">'
                   f'{format_tick(tick - t0, scale)}</text>')
        tick += step
    out.append(f'<text x="{LEFT + plot}" y="{axis_y + 34}" text-anchor="end" class="tick">loop time ({unit})</text>')

    # The legend.
    ly = axis_y + 34
    legend = [
        f'<rect x="{LEFT}" y="{ly - 9}" width="18" height="{BAR - 4}" fill="{PALETTE[0]}"/>',
        f'<text x="{LEFT + 24}" y="{ly}" class="tick">step (runs on the thread)</text>',
        f'<rect x="{LEFT + 190}" y="{ly - 6}" width="18" height="{WAIT}" fill="{PALETTE[0]}" class="wait"/>',
        f'<text x="{LEFT + 214}" y="{ly}" class="tick">waiting (thread free)</text>',
        f'<path d="M{LEFT + 370},{ly - 8} l8,8 m0,-8 l-8,8" stroke="{OUTCOME_COLOURS["cancelled"]}" stroke-width="2.5"/>',
        f'<text x="{LEFT + 384}" y="{ly}" class="tick">cancelled</text>',
    ]
    out += legend
    height = ly + 14
    style = (
        "text{font-family:'DejaVu Sans',Verdana,sans-serif;fill:#222}"
        ".title{font-size:15px;font-weight:bold}.process{font-size:13px;font-weight:bold}"
        ".lane{font-size:12px}.thread{font-style:italic}.tick{font-size:11px;fill:#444}"
        ".steplabel{font-size:10px;fill:#fff}.waitlabel{font-size:10px;fill:#555}.outcome{font-size:11px}"
        ".guide{stroke:#e4e4e4;stroke-width:1}.axis{stroke:#444;stroke-width:1}"
        ".wait{opacity:0.45}.idle{fill:#f1f1f1}.call{fill:#999}.start{stroke:#555;stroke-width:1.5}"
    )
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}">\n<style>{style}</style>\n'
            f'<rect width="100%" height="100%" fill="#fff"/>\n')
    return head + "\n".join(out) + "\n</svg>\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace", help="the trace JSON (aio::Tracer, AIO_TRACE)")
    parser.add_argument("-o", "--output", help="the SVG to write (default: stdout)")
    parser.add_argument("--title", default="", help="a title above the picture")
    parser.add_argument("--thread", action="store_true", help="add a lane with every step: the one thread")
    parser.add_argument("--loop", action="store_true", help="add the event loop's lane (timers, callbacks)")
    parser.add_argument("--width", type=int, default=860, help="width in pixels (default 860)")
    args = parser.parse_args(argv)
    svg = render(load(args.trace), args.title, args.thread, args.loop, args.width)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(svg)
    else:
        sys.stdout.write(svg)


if __name__ == "__main__":
    main()
