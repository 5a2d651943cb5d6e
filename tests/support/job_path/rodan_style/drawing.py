"""Image work with the libraries Rodan's images carry: Pillow to read, NumPy and OpenCV to threshold."""

import cv2
import numpy
from PIL import Image


def threshold_page(path, dark_ink):
    """A one-bit image of the page: Otsu's threshold, ink black whichever way the page is printed."""
    grey = numpy.asarray(Image.open(path).convert("L"))
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if not dark_ink:
        ink = 255 - ink
    return Image.fromarray(ink == 0)
