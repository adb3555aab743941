package k8s

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Profile is the profile the pods run, and how they get it.
type Profile struct {
	// Shipped names a profile built into loadgen ("shipped:rerank.yaml"):
	// the pods need no ConfigMap. Otherwise File is carried.
	Shipped string
	// File is the profile file. Its base name is kept in the pod, because
	// a profile without a name is named after its file.
	File File
	// Dataset is the profile's dataset file, nil for none (synthetic load,
	// a shipped dataset). Its Path is relative to the profile's directory
	// when the dataset lies below it, so the profile finds it as it would
	// on the machine it was written on; an absolute Path is mounted at
	// that same path.
	Dataset *File
}

// File is a file carried by the ConfigMap.
type File struct {
	Path string
	Data []byte
}

// Keys of the ConfigMap.
const (
	keyProfile = "profile"
	keyDataset = "dataset"
)

// Arg is how a pod names the profile on loadgen's command line.
func (p Profile) Arg() string {
	if p.Shipped != "" {
		return p.Shipped
	}
	return path.Join(ProfileMount, filepath.Base(p.File.Path))
}

func (p Profile) check() error {
	if p.Shipped != "" {
		if !strings.HasPrefix(p.Shipped, "shipped:") {
			return fmt.Errorf("shipped profile %q: want shipped:NAME", p.Shipped)
		}
		return nil
	}
	if p.File.Path == "" {
		return fmt.Errorf("no profile")
	}
	if d := p.Dataset; d != nil && !filepath.IsAbs(d.Path) {
		if clean := path.Clean(filepath.ToSlash(d.Path)); clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("dataset %s: a relative path must lie below the profile's directory", d.Path)
		}
	}
	size := len(p.File.Data)
	if p.Dataset != nil {
		size += len(p.Dataset.Data)
	}
	// The API server holds a ConfigMap to the bound of a Secret
	// (k8s.io/kubernetes pkg/apis/core/validation ValidateConfigMap).
	if size > corev1.MaxSecretSize {
		return fmt.Errorf("the profile and its dataset are %d bytes; a ConfigMap holds at most %d: put the dataset on a volume the image mounts and point workload.dataset there", size, corev1.MaxSecretSize)
	}
	return nil
}

// configMapName names the ConfigMap of the Job named name.
func configMapName(name string) string { return name + "-profile" }

// configMap carries the profile file and its dataset; nil for a shipped
// profile. Text goes in data, anything else (a gzipped dataset) in
// binaryData.
func (p Profile) configMap(pod Pod, name, component string) *corev1.ConfigMap {
	if p.Shipped != "" {
		return nil
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: pod.meta(configMapName(name), name, component),
	}
	put := func(key string, data []byte) {
		if utf8.Valid(data) {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[key] = string(data)
			return
		}
		if cm.BinaryData == nil {
			cm.BinaryData = map[string][]byte{}
		}
		cm.BinaryData[key] = data
	}
	put(keyProfile, p.File.Data)
	if p.Dataset != nil {
		put(keyDataset, p.Dataset.Data)
	}
	return cm
}

// volumes mount the ConfigMap: the profile (and a dataset below its
// directory) at ProfileMount, a dataset elsewhere at its own directory.
func (p Profile) volumes(name string) ([]corev1.Volume, []corev1.VolumeMount) {
	if p.Shipped != "" {
		return nil, nil
	}
	src := func(items ...corev1.KeyToPath) corev1.VolumeSource {
		return corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(name)},
			Items:                items,
		}}
	}
	items := []corev1.KeyToPath{{Key: keyProfile, Path: filepath.Base(p.File.Path)}}
	var extra *corev1.KeyToPath
	if d := p.Dataset; d != nil {
		if filepath.IsAbs(d.Path) {
			extra = &corev1.KeyToPath{Key: keyDataset, Path: filepath.Base(d.Path)}
		} else {
			items = append(items, corev1.KeyToPath{Key: keyDataset, Path: path.Clean(filepath.ToSlash(d.Path))})
		}
	}
	vols := []corev1.Volume{{Name: "profile", VolumeSource: src(items...)}}
	mounts := []corev1.VolumeMount{{Name: "profile", MountPath: ProfileMount, ReadOnly: true}}
	if extra != nil {
		vols = append(vols, corev1.Volume{Name: "dataset", VolumeSource: src(*extra)})
		mounts = append(mounts, corev1.VolumeMount{Name: "dataset", MountPath: filepath.Dir(p.Dataset.Path), ReadOnly: true})
	}
	return vols, mounts
}
