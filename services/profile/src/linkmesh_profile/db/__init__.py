"""db: the only layer that reaches the database."""

from linkmesh_profile.db import person as _person  # noqa: F401  (registers its query shapes with the others)
