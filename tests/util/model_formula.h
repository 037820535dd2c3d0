/* model_formula.h: fills every parameter and buffer of a model from a closed formula of its
 * name and element index, the same formula as tests/ref/ref_models.py, so whole-model
 * parity with PyTorch needs no stored weights. */
#ifndef VT_MODEL_FORMULA_H
#define VT_MODEL_FORMULA_H

#include "vertebra.h"

void vt_test_formula_fill(vt_params *p);

#endif
