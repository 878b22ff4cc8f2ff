"""Avatar packages shipped inside the engine (one directory per id), loadable with no network."""
