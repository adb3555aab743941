// Code generated from the NeuronConfig key lists of
// aws-neuron/neuronx-distributed-inference; DO NOT EDIT.
//
// Source: src/neuronx_distributed_inference/models/config.py,
// NeuronConfig.__init__ and MoENeuronConfig.__init__, at tag v0.6.10598
// (commit e07f0567ad8b, Neuron SDK 2.26) and tag v0.7.14366 (commit
// fcb5a8688d23, Neuron SDK 2.27). The lists were extracted once with a
// Python AST walk of __init__: every kwargs.pop("<key>", …) before the
// "Unexpected keyword arguments" check (accepted), after it (late), and the
// instance attributes __init__ sets but never pops, which to_dict()
// serialises into neuron_config.json and a reload passes back as keyword
// arguments (derived). Regenerate only from those sources.

package neuron

// keysAccepted226: popped before the check (config.py L471 @ v0.6.10598); 105 keys.
var keysAccepted226 = []string{
	"activation_quantization_type", "allow_input_truncation", "async_mode", "attention_dp_degree",
	"attention_dtype", "attn_block_cte_nki_kernel_enabled", "attn_block_tkg_nki_kernel_cache_update",
	"attn_block_tkg_nki_kernel_cascaded_attention", "attn_block_tkg_nki_kernel_enabled", "attn_cls",
	"attn_kernel_enabled", "attn_tkg_builtin_kernel_enabled", "attn_tkg_nki_kernel_enabled",
	"batch_size", "bucket_n_active_tokens", "buckets", "cast_type", "cc_pipeline_tiling_factor",
	"chunked_prefill_config", "context_encoding_buckets", "cp_degree", "ctx_batch_size",
	"disable_kv_cache_tiling", "draft_model_modules_to_not_convert", "enable_bucketing",
	"enable_cte_modular_flow", "enable_eagle_draft_input_norm", "enable_eagle_speculation",
	"enable_fused_speculation", "enable_spill_reload_dge", "ep_degree",
	"expert_mlp_nki_kernel_enabled", "flash_decoding_enabled", "fused_qkv",
	"fused_rmsnorm_skip_gamma", "is_block_kv_layout", "is_continuous_batching", "is_eagle_draft",
	"is_medusa", "is_prefix_caching", "k_cache_transposed", "kv_cache_batch_size",
	"kv_cache_padding_size", "kv_cache_quant", "layer_boundary_markers", "lm_head_pad",
	"lm_head_pad_alignment_size", "local_ranks_size", "logical_nc_config", "logical_neuron_cores",
	"lora_config", "max_batch_size", "max_context_length", "max_length", "max_new_tokens",
	"medusa_speculation_length", "medusa_tree", "mlp_kernel_enabled", "mlp_kernel_fuse_residual_add",
	"modules_to_not_convert", "moe_fused_nki_kernel_enabled", "n_active_tokens", "n_positions",
	"num_medusa_heads", "on_cpu", "on_device_sampling_config", "output_logits",
	"overrides_torch_dtype", "pa_block_size", "pa_num_blocks", "padding_side", "pp_degree",
	"prefix_buckets", "qk_layernorm", "qkv_kernel_enabled", "qkv_kernel_fuse_residual_add",
	"qkv_kernel_nbsd_layout", "quantization_dtype", "quantization_type", "quantize_clamp_bound",
	"quantized", "quantized_checkpoints_path", "quantized_mlp_kernel_enabled",
	"rmsnorm_quantize_kernel_enabled", "router_topk_nki_kernel_enabled", "rpl_reduce_dtype",
	"save_sharded_checkpoint", "seq_len", "seq_len_threshold_for_cc_tiling",
	"sequence_parallel_enabled", "shared_mlp_nki_kernel_enabled", "skip_sharding", "spec_batch_size",
	"speculation_length", "start_rank_id", "strided_context_parallel_kernel_enabled", "target",
	"tkg_batch_size", "token_generation_buckets", "token_tree_config", "torch_dtype", "tp_degree",
	"vocab_parallel", "weight_gather_seq_len_threshold", "world_size",
}

// keysLate226: popped after the check at L471 @ v0.6.10598 (L475, L478, L487,
// L492–493): applied, yet listed in the warning.
var keysLate226 = []string{
	"apply_seq_ids_mask", "enable_output_completion_notifications", "scratchpad_page_size",
	"skip_warmup",
}

// keysDerived226: set by __init__ @ v0.6.10598 but not popped before the
// check; a reload of neuron_config.json passes them back, so they are listed.
var keysDerived226 = []string{
	"apply_seq_ids_mask", "enable_long_context_mode", "enable_output_completion_notifications",
	"enable_token_tree", "is_chunked_prefill", "is_prefill_stage", "kv_cache_tiling",
	"scratchpad_page_size", "skip_warmup", "tile_cc", "weights_to_skip_layout_optimization",
}

// keysAccepted227: popped before the check (config.py L563 @ v0.7.14366); 129 keys.
// No key is popped after the check in this version.
var keysAccepted227 = []string{
	"activation_quantization_type", "allow_input_truncation", "apply_seq_ids_mask", "async_mode",
	"attention_dp_degree", "attention_dtype", "attn_block_cte_nki_kernel_enabled",
	"attn_block_tkg_nki_kernel_cache_update", "attn_block_tkg_nki_kernel_cascaded_attention",
	"attn_block_tkg_nki_kernel_enabled", "attn_block_tkg_nki_kernel_use_online_softmax", "attn_cls",
	"attn_kernel_enabled", "attn_tkg_builtin_kernel_enabled", "attn_tkg_nki_kernel_enabled",
	"batch_size", "bucket_n_active_tokens", "buckets", "cast_type", "cc_pipeline_tiling_factor",
	"chunked_prefill_config", "context_encoding_buckets", "cp_degree", "ctx_batch_size",
	"disable_kv_cache_tiling", "disable_numeric_cc_token", "draft_model_modules_to_not_convert",
	"enable_bucketing", "enable_cte_modular_flow", "enable_eagle_draft_input_norm",
	"enable_eagle_speculation", "enable_fused_speculation", "enable_output_completion_notifications",
	"enable_spill_reload_dge", "ep_degree", "expert_mlp_nki_kernel_enabled", "flash_decoding_enabled",
	"fused_qkv", "fused_rmsnorm_skip_gamma", "is_block_kv_layout", "is_continuous_batching",
	"is_eagle3", "is_eagle_draft", "is_full_model_shuffled", "is_medusa", "is_mxfp4_compute",
	"is_prefix_caching", "k_cache_transposed", "kv_cache_batch_size", "kv_cache_padding_size",
	"kv_cache_quant", "layer_boundary_markers", "lm_head_pad", "lm_head_pad_alignment_size",
	"local_ranks_size", "logical_nc_config", "logical_neuron_cores", "lora_config", "max_batch_size",
	"max_context_length", "max_length", "max_new_tokens", "medusa_speculation_length", "medusa_tree",
	"mlp_cp_degree", "mlp_kernel_enabled", "mlp_kernel_fuse_residual_add",
	"mlp_tkg_nki_kernel_enabled", "modules_to_not_convert", "moe_fused_nki_kernel_enabled",
	"n_active_tokens", "n_positions", "num_medusa_heads", "on_cpu", "on_device_sampling_config",
	"out_proj_kernel_enabled", "output_logits", "overrides_torch_dtype", "pa_block_size",
	"pa_num_blocks", "padded_hidden_size", "padded_intermediate_size", "padding_side", "pp_degree",
	"pre_rope_rmsnorm", "prefix_buckets", "qk_layernorm", "qkv_cte_nki_kernel_fuse_rope",
	"qkv_kernel_enabled", "qkv_kernel_fuse_residual_add", "qkv_kernel_nbsd_layout",
	"qkv_nki_kernel_enabled", "quantization_block_axis", "quantization_block_size",
	"quantization_dtype", "quantization_scale_dtype", "quantization_type", "quantize_clamp_bound",
	"quantized", "quantized_checkpoints_path", "quantized_mlp_kernel_enabled",
	"rmsnorm_quantize_kernel_enabled", "router_topk_nki_kernel_enabled", "rpl_reduce_dtype",
	"save_sharded_checkpoint", "scratchpad_page_size", "seq_len", "seq_len_threshold_for_cc_tiling",
	"sequence_parallel_enabled", "shared_mlp_nki_kernel_enabled", "skip_sharding", "skip_warmup",
	"spec_batch_size", "speculation_length", "start_rank_id",
	"strided_context_parallel_kernel_enabled", "switch_cc", "target", "tensor_capture_config",
	"tensor_replacement_config", "tkg_batch_size", "token_generation_buckets", "token_tree_config",
	"torch_dtype", "tp_degree", "vocab_parallel", "weight_gather_seq_len_threshold",
	"windowed_context_encoding_size", "world_size",
}

// keysDerived227: set by __init__ @ v0.7.14366 but not popped before the
// check (derived on reuse).
var keysDerived227 = []string{
	"enable_long_context_mode", "enable_token_tree", "is_chunked_prefill", "is_hidden_dim_shuffled",
	"is_intermediate_dim_shuffled", "is_prefill_stage", "kv_cache_tiling",
	"kv_cache_update_with_kernel", "tile_cc", "weights_to_skip_layout_optimization",
}

// keysMoE226: popped by MoENeuronConfig.__init__ @ v0.6.10598 (L580–615)
// before it calls NeuronConfig.__init__.
var keysMoE226 = []string{
	"blockwise_matmul_config", "capacity_factor", "disable_normalize_top_k_affinities",
	"early_expert_affinity_modulation", "fused_shared_experts", "glu_mlp", "glu_type",
	"hidden_act_bias", "hidden_act_scaling_factor", "hybrid_sharding_config", "moe_ep_degree",
	"moe_tp_degree", "return_expert_index", "router_config",
	"shared_experts_sequence_parallel_enabled", "transpose_shared_experts_weights",
}

// keysMoE227: popped by MoENeuronConfig.__init__ @ v0.7.14366 (L670).
var keysMoE227 = []string{
	"blockwise_matmul_config", "capacity_factor", "disable_normalize_top_k_affinities",
	"early_expert_affinity_modulation", "fused_shared_experts", "gate_clamp_lower_limit",
	"gate_clamp_upper_limit", "glu_mlp", "glu_type", "hidden_act_bias", "hidden_act_scaling_factor",
	"hybrid_sharding_config", "moe_ep_degree", "moe_mask_padded_tokens", "moe_tp_degree",
	"return_expert_index", "return_router_logits", "router_config",
	"shared_experts_sequence_parallel_enabled", "transpose_shared_experts_weights",
	"up_clamp_lower_limit", "up_clamp_upper_limit", "use_index_calc_kernel",
}

// keysMoEDerived: stored by MoENeuronConfig under another name than the
// one it pops (normalize_top_k_affinities), in both versions.
var keysMoEDerived = []string{
	"normalize_top_k_affinities",
}
