"""Publishing a run: the publish log switch, housekeeping, tags held back by a failed check."""
