"""Job packages, one sub-package per family; discovered by ``rodan.jobs.registry``."""
