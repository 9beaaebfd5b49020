"""Import an installation of the original fusionpipe (v2): read it, plan, write it here."""
