"""serendip: systematic serendipitous discovery in X-ray and time-domain astronomy.

Data flow one way, one subpackage per stage::

    io -> represent -> features -> embed / cluster / detect -> catalog -> report / app
                                         evaluate measures any detector
                                         simulate makes labelled synthetic data
                                         cli is a thin shell over the library
"""

from serendip.errors import InputError, SerendipError

__version__ = "0.1.0"
__all__ = ["InputError", "SerendipError", "__version__"]
