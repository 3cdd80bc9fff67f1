"The tutorial notebooks, shipped as package data of `gradclip.tutorials` (see pyproject.toml); `gradclip tutorials` copies them out."
