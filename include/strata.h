/* strata.h - the umbrella header of libstrata. */
#ifndef STRATA_H
#define STRATA_H

#include "strata/common.h"
#include "strata/doc.h"
#include "strata/yaml.h"
#include "strata/source.h"
#include "strata/config.h"
#include "strata/resource.h"
#include "strata/merge.h"
#include "strata/transform.h"
#include "strata/render.h"

#endif
