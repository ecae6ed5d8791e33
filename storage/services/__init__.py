"""Storage's service layer: the only code in Berth that imports the Ceph bindings."""
