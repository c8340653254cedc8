# Sources.cmake - the torch tests that need no search, relative to test/:
# nos::Optimizer, data, child training and the task suite. nos-torch-tests
# runs them with the search's; the GPU kit's torch build (cmake/KitTorch.cmake)
# runs them alone.
set(NOS_TRAIN_TEST_SOURCES unit/main.cpp torch/OptimizerTest.cpp
    torch/DataTest.cpp torch/TrainerTest.cpp torch/TasksTest.cpp)
