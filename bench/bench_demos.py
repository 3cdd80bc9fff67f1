"""Update latency of every interactive demo, against its budget (0.3 s analytic, 1.5 s training), from one run.

Finds every `*_demo` function in the `gradclip.demos` modules, builds each demo with its defaults, then moves every
control through its range — sliders to a quarter, half and three quarters of the way (in log space for log
sliders), dropdowns and toggles to each option — timing each update as a learner's slider move would trigger it
(`Demo.set`, which recomputes and re-renders the PNG). Prints, per demo, the median and the worst update time.

    python bench/bench_demos.py [--only NAME]
"""
import argparse, importlib, inspect, pkgutil, statistics, warnings
import ipywidgets as widgets

warnings.filterwarnings('ignore', category=FutureWarning)

def demo_factories():
    import gradclip.demos
    for m in sorted(pkgutil.iter_modules(gradclip.demos.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f'gradclip.demos.{m.name}')
        for name, f in inspect.getmembers(mod, inspect.isfunction):
            if name.endswith('_demo') and f.__module__ == mod.__name__: yield f'{m.name}.{name}', f

def moves(demo):
    "(control, value) pairs that walk every control through its range, back to its start at the end"
    for name, w in demo.controls.items():
        start = w.value
        if isinstance(w, widgets.FloatLogSlider):
            vals = [w.base ** (w.min + f * (w.max - w.min)) for f in (0.25, 0.5, 0.75)]
        elif isinstance(w, (widgets.FloatSlider, widgets.IntSlider)):
            vals = [w.min + f * (w.max - w.min) for f in (0.25, 0.5, 0.75)]
            if isinstance(w, widgets.IntSlider): vals = [int(round(v)) for v in vals]
        elif hasattr(w, 'options'):      # options given as a dict, as (label, value) pairs, or as plain values
            opts = w.options
            vals = list(opts.values()) if isinstance(opts, dict) else [o[1] if isinstance(o, tuple) else o for o in opts]
        elif isinstance(w, (widgets.Checkbox, widgets.ToggleButton)): vals = [not start]
        else: continue
        for v in vals:
            if v != start: yield name, v
        yield name, start

def run(only=None):
    rows = []
    for name, factory in demo_factories():
        if only and only not in name: continue
        demo = factory()
        times = []
        for control, value in moves(demo):
            demo.set(**{control: value})
            times.append(demo.last_update_s)
        med, worst = statistics.median(times), max(times)
        rows.append((name, len(times), med, worst, demo.budget_s))
        print(f"{name:42s} {len(times):3d} updates   median {med*1e3:6.0f} ms   worst {worst*1e3:6.0f} ms   "
              f"budget {demo.budget_s*1e3:5.0f} ms   {'within' if med <= demo.budget_s else 'OVER'}", flush=True)
    within = sum(med <= b for _, _, med, _, b in rows)
    print(f"\n{within} of {len(rows)} demos update within budget (median); "
          f"{sum(w <= b for *_, w, b in rows)} of {len(rows)} even in their worst update")
    return rows

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--only', help='only demos whose name contains this')
    run(ap.parse_args().only)
