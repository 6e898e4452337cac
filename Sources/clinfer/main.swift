print("clinfer")
