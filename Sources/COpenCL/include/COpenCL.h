// C shim over the OpenCL ICD loader.
//
// The OpenCL version is pinned here, in the header, because a cSettings define does not reach
// Swift's Clang importer: without it the headers default to 3.0 and flag 1.2 APIs deprecated.
// Flag macros import into Swift as Int32 while the API takes 64-bit bitfields, so the flags Clinfer
// uses are re-exported below as typed constants.
#ifndef COPENCL_H
#define COPENCL_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

// Memory flags (cl_mem_flags).
static const cl_mem_flags COPENCL_MEM_READ_WRITE = CL_MEM_READ_WRITE;
static const cl_mem_flags COPENCL_MEM_READ_ONLY = CL_MEM_READ_ONLY;
static const cl_mem_flags COPENCL_MEM_WRITE_ONLY = CL_MEM_WRITE_ONLY;
static const cl_mem_flags COPENCL_MEM_COPY_HOST_PTR = CL_MEM_COPY_HOST_PTR;

// Device types (cl_device_type).
static const cl_device_type COPENCL_DEVICE_TYPE_ALL = CL_DEVICE_TYPE_ALL;
static const cl_device_type COPENCL_DEVICE_TYPE_CPU = CL_DEVICE_TYPE_CPU;
static const cl_device_type COPENCL_DEVICE_TYPE_GPU = CL_DEVICE_TYPE_GPU;
static const cl_device_type COPENCL_DEVICE_TYPE_ACCELERATOR = CL_DEVICE_TYPE_ACCELERATOR;

// Command queue properties (cl_command_queue_properties).
static const cl_command_queue_properties COPENCL_QUEUE_PROFILING_ENABLE = CL_QUEUE_PROFILING_ENABLE;

/// The symbolic name of an OpenCL status code ("CL_OUT_OF_RESOURCES"), or NULL if unknown.
const char *copencl_error_name(cl_int code);

#endif
