"""Looking at a dataset: a self-contained HTML viewer folder and rerun recordings.

from robotlearn.viewer import write_viewer, write_rrd
write_viewer("data/pusht", "outputs/viewer/pusht")     # open outputs/viewer/pusht/index.html
write_rrd("data/pusht", "pusht.rrd")                    # extra "viz": pip install 'robotlearn[viz]'
"""


def __getattr__(name):
    # Lazy: `robotlearn dataset --help` must not import numpy/pyarrow.
    if name in ("write_viewer", "ViewerResult"):
        from robotlearn.viewer import html_viewer

        return getattr(html_viewer, name)
    if name == "write_rrd":
        from robotlearn.viewer.rerun_export import write_rrd

        return write_rrd
    raise AttributeError(name)


__all__ = ["ViewerResult", "write_rrd", "write_viewer"]
