"""Binarization jobs from Δoxa (doxapy): newer local thresholds beside Gamera's, under their own names.

The Gamera catalogue keeps Gamera's formulas for compatibility; these jobs give
users the methods as their papers define them (Wolf, NICK, Su, ISauvola,
T.R. Singh, WAN, and the textbook Sauvola). The family needs doxapy; without
it, it is reported unavailable and the others keep working.
"""

__version__ = "0.1.0"
