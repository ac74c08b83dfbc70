from benchbench.analysis import kernels

ADD_F32 = ("void at::native::vectorized_elementwise_kernel<4, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul> >"
           "(int, at::native::CUDAFunctor_add<float>, std::array<char*, 3ul>)")
ADD_BF16 = ("void at::native::vectorized_elementwise_kernel<8, at::native::CUDAFunctor_add<c10::BFloat16>, "
            "std::array<char*, 3ul> >(int, at::native::CUDAFunctor_add<c10::BFloat16>, std::array<char*, 3ul>)")
MUL_SCALAR = ("void at::native::vectorized_elementwise_kernel<4, at::native::AUnaryFunctor<float, float, float, "
              "at::native::binary_internal::MulFunctor<float> >, std::array<char*, 2ul> >(int, ...)")
LN_GRAD = ("void at::native::(anonymous namespace)::layer_norm_grad_input_kernel_vectorized<float, float, false>"
           "(float const*, float const*, float*, int)")


def test_template_arguments_vector_widths_and_dtypes_fold():
    assert kernels.normalize(ADD_F32) == kernels.normalize(ADD_BF16) == "vectorized_elementwise_kernel<CUDAFunctor_add>"
    assert kernels.normalize(LN_GRAD) == "layer_norm_grad_input_kernel_vectorized"


def test_the_functor_inside_a_wrapper_names_the_op():
    assert kernels.normalize(MUL_SCALAR) == "vectorized_elementwise_kernel<MulFunctor>"
    assert kernels.label(MUL_SCALAR) == "mul"
    assert kernels.label(ADD_F32) == "add"
    assert kernels.label(kernels.normalize(ADD_F32)) == "add"


def test_tile_sizes_and_numeric_suffixes_fold_but_layouts_stay():
    a = kernels.normalize("nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_NNT")
    assert a == kernels.normalize("nvjet_sm90_tst_128x256_64x5_2x1_h_bz_coopA_NNT") == "nvjet_sm#_tst_#x#_#x#_#x#_h_bz_coopA_NNT"
    assert a != kernels.normalize("nvjet_sm90_tst_256x128_64x4_1x2_h_bz_coopA_TNT")
    assert kernels.normalize("triton_poi_fused_add_mul_0") == kernels.normalize("triton_poi_fused_add_mul_13")


def test_a_name_cut_inside_its_template_arguments_still_normalizes():
    assert kernels.normalize(ADD_F32[:85]) == "vectorized_elementwise_kernel<CUDAFunctor_add>"


def test_totals_sum_the_variants_of_one_kernel():
    t = kernels.totals([{"name": ADD_F32, "time_us": 3.0}, {"name": ADD_BF16, "time_us": 2.0, "count": 4}])
    assert list(t) == ["vectorized_elementwise_kernel<CUDAFunctor_add>"]
    assert t["vectorized_elementwise_kernel<CUDAFunctor_add>"]["time_us"] == 5.0
    assert t["vectorized_elementwise_kernel<CUDAFunctor_add>"]["count"] == 5


def test_match_lists_new_vanished_and_what_a_top_n_list_cannot_know():
    m = kernels.match({"a": 1.0, "b": 2.0, "tiny": 0.1}, {"a": 1.5, "c": 3.0, "d": 0.05}, floor_a=0.5, floor_b=0.5)
    assert m["matched"] == [("a", 1.0, 1.5)]
    assert m["new"] == [("c", 0.0, 3.0)]
    assert m["vanished"] == [("b", 2.0, 0.0)]
    # below the other side's floor: maybe there, unlisted
    assert sorted(k for k, _, _ in m["hidden"]) == ["d", "tiny"]
