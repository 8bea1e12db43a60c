"""Models whose licences and training data allow commercial use. See manifest.json; the runtime finds this folder through the ``attune.models`` entry point."""
