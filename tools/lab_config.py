"""Jupyter server config for `make lab` and the browser test: opening a notebook does not mark it modified.

Why a notebook showed as modified the moment it was opened: when its kernel starts, JupyterLab writes the kernel's
`kernelspec` (display name "Python 3 (ipykernel)") and `language_info` (with the exact Python version) into the
notebook's metadata. `nbdev-clean` stores neither the way JupyterLab writes them — it removes `language_info` and
sets the kernelspec's display name to its name, "python3" — so every committed notebook differed from what
JupyterLab wanted, and the write made it dirty. JupyterLab skips a write that changes nothing, so this serves each
notebook with those two entries already as the running kernel reports them (`gradclip tutorials` writes them into
the copies it makes, for the same reason). Nothing changes on disk until the
learner saves, and `nbdev-clean` (run on commit) takes the entries out again.

    jupyter lab --config=tools/lab_config.py
"""
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from gradclip.cli import kernel_metadata     # the entries, as `gradclip tutorials` writes them into its copies

class KernelMetadataContentsManager(AsyncLargeFileManager):
    "Serves notebooks with the kernel metadata JupyterLab would write on opening them"
    async def get(self, path, content=True, type=None, format=None, **kwargs):
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get('type') == 'notebook' and model.get('content'):
            meta = model['content'].setdefault('metadata', {})
            meta.update(kernel_metadata(meta.get('kernelspec', {}).get('name') or 'python3'))
        return model

c = get_config()  # noqa: F821 -- defined by Jupyter when it loads this file
c.ServerApp.contents_manager_class = KernelMetadataContentsManager
