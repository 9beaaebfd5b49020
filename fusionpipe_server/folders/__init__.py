"""Node folders on disk: templates, identity file, parameters, permissions. No database here."""
