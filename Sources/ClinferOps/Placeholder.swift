import OpenCLKit
