"""HTML renderers: page chrome, the article body, one table module per table and one per generation.

Renderers are pure functions from catalogue data to ``str``; encoding to bytes happens in ``site``.
"""
