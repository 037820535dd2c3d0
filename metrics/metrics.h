/* metrics.h: the evaluation metrics of the spine papers, on host arrays (see
 * docs/metrics.md for every definition and convention). */
#ifndef VT_METRICS_H
#define VT_METRICS_H

#include "classification.h"
#include "detection.h"
#include "roc.h"
#include "segmentation.h"

#endif
