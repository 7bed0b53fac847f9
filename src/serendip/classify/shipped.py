"""The classifiers shipped in ``serendip/models`` (see ``models/CLASSIFY.md``): name -> file.

A light module (no numpy), so configuration checks and help texts can list the names.
"""

SHIPPED = {
    "csc_xray_grouped": "csc_xray_grouped.safetensors",
    "csc_xray_all": "csc_xray_all.safetensors",
    "csc_xraypos_grouped": "csc_xraypos_grouped.safetensors",
}
